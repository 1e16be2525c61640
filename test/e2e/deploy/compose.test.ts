// docker-compose.yml, its Prometheus config and demo config, and the Dockerfile, checked without a
// Docker engine: `docker-compose config -q` (Debian's docker-compose) validates the compose file,
// and the properties the demo relies on are asserted on the parsed files.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { FLEETGATE_BIN } from '@fleetgate/testkit'
import { parse } from 'yaml'

const root = new URL('../../../', import.meta.url).pathname
const composeText = readFileSync(join(root, 'docker-compose.yml'), 'utf8')
// biome-ignore lint/suspicious/noExplicitAny: compose files are read as arbitrary JSON
const compose = parse(composeText, { merge: true, maxAliasCount: 100 }) as any
const dockerCompose = spawnSync('sh', ['-c', 'command -v docker-compose'], { encoding: 'utf8' }).stdout.trim()
const noCompose = dockerCompose === '' && 'docker-compose is not installed (Debian package docker-compose; .ci/run installs it)'

function composeConfig(text: string) {
  return spawnSync(dockerCompose, ['-f', '-', 'config', '-q'], { cwd: root, input: text, encoding: 'utf8', timeout: 30_000 })
}

/** The `--name=value` or `--name value` of a command list. */
function flag(command: string[], name: string): string | undefined {
  const i = command.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`))
  if (i < 0) return undefined
  return command[i]?.includes('=') ? command[i]?.slice(name.length + 3) : command[i + 1]
}

describe('docker-compose.yml', () => {
  test('docker-compose config -q accepts it', { skip: noCompose }, () => {
    const run = composeConfig(composeText)
    assert.equal(run.status, 0, run.stderr)
  })

  test('docker-compose config -q rejects a misspelt option', { skip: noCompose }, () => {
    const run = composeConfig(composeText.replace('    restart: "no"', '    restartt: "no"'))
    assert.notEqual(run.status, 0)
    assert.match(run.stderr, /restartt/)
  })

  test('etcd and Prometheus use pinned image versions', () => {
    for (const name of ['etcd', 'prometheus', 'backend-1', 'backend-2']) {
      assert.match(compose.services[name].image, /:v?\d+\.\d+\.\d+$/, name)
    }
  })

  test('two data planes follow etcd, each with its own node id and a cache file on a volume', () => {
    const ids = ['proxy-1', 'proxy-2'].map((name) => {
      const command = compose.services[name].command as string[]
      assert.equal(command[0], 'proxy')
      assert.equal(flag(command, 'etcd'), 'http://etcd:2379')
      const cache = flag(command, 'cache-file') as string
      const volumes = compose.services[name].volumes as string[]
      assert.ok(
        volumes.some((v) => cache.startsWith(`${v.split(':')[1]}/`) && compose.volumes[v.split(':')[0] as string] !== undefined),
        `${name}: cache file ${cache} on a named volume`,
      )
      return flag(command, 'node-id')
    })
    assert.deepEqual(ids, ['proxy-1', 'proxy-2'])
  })

  test('the demo config is applied by ctl once the control plane is healthy, with the control plane token', () => {
    const apply = compose.services['apply-demo-config']
    assert.deepEqual(apply.command.slice(0, 4), ['ctl', 'apply', '-f', '/config/demo.toml'])
    assert.equal(apply.depends_on['control-plane'].condition, 'service_healthy')
    assert.equal(apply.environment.FLEETGATE_TOKEN, compose.services['control-plane'].environment.FLEETGATE_ADMIN_TOKEN)
    assert.ok(apply.volumes.some((v: string) => v.startsWith('./deploy/compose/demo.toml:/config/demo.toml')))
    assert.match(compose.services['control-plane'].healthcheck.test.join(' '), /9180\/readyz/)
  })

  test('the demo config passes fleetgate validate and routes to the demo backends', () => {
    const run = spawnSync(FLEETGATE_BIN, ['validate', join(root, 'deploy/compose/demo.toml')], { encoding: 'utf8', timeout: 30_000 })
    assert.equal(run.status, 0, run.stdout + run.stderr)
    const demo = readFileSync(join(root, 'deploy/compose/demo.toml'), 'utf8')
    for (const backend of ['backend-1', 'backend-2']) assert.ok(demo.includes(`"${backend}:8000"`), backend)
  })

  test('Prometheus scrapes both data planes status ports, the control plane and etcd', () => {
    // biome-ignore lint/suspicious/noExplicitAny: prometheus.yml read as arbitrary JSON
    const prom = parse(readFileSync(join(root, 'deploy/compose/prometheus.yml'), 'utf8')) as any
    const targets = prom.scrape_configs.flatMap((job: { static_configs: { targets: string[] }[] }) =>
      job.static_configs.flatMap((s) => s.targets),
    )
    assert.deepEqual(targets.sort(), ['control-plane:9180', 'etcd:2379', 'proxy-1:9100', 'proxy-2:9100'])
    for (const name of ['proxy-1', 'proxy-2']) assert.equal(flag(compose.services[name].command, 'status-addr'), '0.0.0.0:9100')
  })
})

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8')
  const stages = dockerfile.match(/^FROM .*/gm) ?? []

  test('is multi-stage on node:24-slim and installs production dependencies only', () => {
    assert.ok(stages.length >= 2, stages.join('\n'))
    assert.match(dockerfile, /^ARG NODE_IMAGE=node:24-slim$/m)
    assert.match(dockerfile, /pnpm install --prod --frozen-lockfile/)
  })

  test('runs as a non-root user with fleetgate as entrypoint and a /livez health check', () => {
    const final = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '))
    const user = final.match(/^USER (\S+)/m)?.[1] ?? 'root'
    assert.doesNotMatch(user, /^(root|0)(:|$)/)
    assert.match(final, /^ENTRYPOINT \["fleetgate"\]$/m)
    assert.match(final, /^HEALTHCHECK /m)
    assert.match(final, /HEALTHCHECK_URL=http:\/\/127\.0\.0\.1:9100\/livez/)
  })

  test('.dockerignore keeps node_modules, git and tests out of the build context', () => {
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n')
    for (const entry of ['**/node_modules', '.git', 'test', 'packages/*/test']) assert.ok(ignored.includes(entry), entry)
  })
})

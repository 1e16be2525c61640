// The status listener (/livez, /readyz, /status, /metrics), `fleetgate validate`, and the
// FLEETGATE_* environment variables standing in for flags.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import {
  createTestCa,
  FLEETGATE_BIN,
  freePort,
  type GatewayProcess,
  startBackend,
  startGateway,
  startProcess,
  type TestBackend,
  waitFor,
} from '@fleetgate/testkit'

let backend: TestBackend
let gateway: GatewayProcess
let dir: string
let port: number

function configFor(port: number, path = '/'): string {
  return `
[upstreams.api]
addrs = ["${backend.addr}"]

[locations.web]
upstream = "api"
path = "${path}"

[servers.main]
addr = "127.0.0.1:${port}"
locations = ["web"]
`
}

before(async () => {
  backend = await startBackend('api')
  dir = await mkdtemp(join(tmpdir(), 'fleetgate-cli-test-'))
  port = await freePort()
  gateway = await startGateway(configFor(port))
})

after(async () => {
  await gateway?.stop()
  await backend?.close()
  await rm(dir, { recursive: true, force: true })
})

/** Runs `fleetgate ARGS` to completion; resolves with its exit code and output. */
function fleetgate(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(FLEETGATE_BIN, args, { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr })
    })
  })
}

describe('status listener', () => {
  test('/livez answers 200', async () => {
    const res = await fetch(`${gateway.statusUrl}/livez`)
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { status: 'ok' })
  })
  test('/readyz answers 200 once a config is applied', async () => {
    const res = await fetch(`${gateway.statusUrl}/readyz`)
    assert.equal(res.status, 200)
    await res.body?.cancel()
  })
  test('/status reports generation, sha256, source, appliedAt, etcdConnected and lastError', async () => {
    const res = await fetch(`${gateway.statusUrl}/status`)
    assert.equal(res.status, 200)
    assert.match(String(res.headers.get('content-type')), /application\/json/)
    const status = (await res.json()) as Record<string, unknown>
    assert.equal(status.generation, 1)
    assert.match(String(status.sha256), /^[0-9a-f]{64}$/)
    assert.equal(status.source, 'file')
    assert.ok(Math.abs(Date.parse(String(status.appliedAt)) - Date.now()) < 60_000, String(status.appliedAt))
    assert.equal(status.etcdConnected, null)
    assert.equal(status.lastError, null)
  })
  test('/metrics serves Prometheus text with fleetgate_config_generation following reloads', async () => {
    const metrics = async () => {
      const res = await fetch(`${gateway.statusUrl}/metrics`)
      assert.equal(res.status, 200)
      assert.match(String(res.headers.get('content-type')), /^text\/plain/)
      return await res.text()
    }
    assert.match(await metrics(), /^fleetgate_config_generation 1$/m)
    const sha = (await gateway.status()).sha256
    await gateway.writeConfig(configFor(port, '/v2'))
    await gateway.waitForGeneration(2)
    assert.match(await metrics(), /^fleetgate_config_generation 2$/m)
    assert.notEqual((await gateway.status()).sha256, sha)
  })
  test('an unknown status path answers 404', async () => {
    const res = await fetch(`${gateway.statusUrl}/nope`)
    assert.equal(res.status, 404)
    await res.body?.cancel()
  })
})

describe('fleetgate validate', () => {
  test('exits 0 on a valid file', async () => {
    const file = join(dir, 'valid.toml')
    await writeFile(file, configFor(8080))
    const { code, stdout } = await fleetgate(['validate', file])
    assert.equal(code, 0)
    assert.match(stdout, /ok/)
  })
  test('exits 1 listing every error with its key path and a "did you mean"', async () => {
    const file = join(dir, 'typos.toml')
    await writeFile(
      file,
      `
[upstreams.api]
addrs = ["127.0.0.1:8001"]
algoritm = "round_robin"

[locations.web]
upstream = "apii"
pth = "/"

[servers.main]
addr = "127.0.0.1:8080"
locations = ["web"]
`,
    )
    const { code, stdout, stderr } = await fleetgate(['validate', file])
    const out = stdout + stderr
    assert.equal(code, 1, out)
    assert.match(out, /upstreams\.api\.algoritm: .*did you mean "algorithm"/)
    assert.match(out, /locations\.web\.pth: .*did you mean "path"/)
    assert.match(out, /locations\.web\.upstream: .*"apii".*did you mean "api"/)
  })
  test('exits 1 on an invalid access_log format, naming its key path', async () => {
    const file = join(dir, 'access-log.toml')
    await writeFile(file, configFor(8080).replace(/(\[servers\.[^\]]+\]\n)/, '$1access_log = "{method} {stauts} {>X Tenant}"\n'))
    const { code, stdout, stderr } = await fleetgate(['validate', file])
    const out = stdout + stderr
    assert.equal(code, 1, out)
    assert.match(out, /servers\.\w+\.access_log: unknown access_log variable \{stauts\} \(did you mean \{status\}\?\)/)
  })
  test('exits 1 on a file that is not TOML', async () => {
    const file = join(dir, 'broken.toml')
    await writeFile(file, '[upstreams.api\naddrs = = 1\n')
    const { code } = await fleetgate(['validate', file])
    assert.equal(code, 1)
  })
  test('reads the PEM files a config names: a missing file or a key of another certificate is an error at its key', async () => {
    const ca = createTestCa('validate-ca')
    try {
      const site = ca.issue({ dns: ['site.test'] })
      const other = ca.issue({ dns: ['other.test'] })
      const tlsConfig = (cert: string, key: string) => `
[upstreams.api]
addrs = ["127.0.0.1:8001"]

[locations.web]
upstream = "api"

[servers.edge]
addr = "127.0.0.1:8443"
locations = ["web"]
tls_cert = "${cert}"
tls_key = "${key}"
`
      const file = join(dir, 'tls.toml')
      await writeFile(file, tlsConfig(site.certPath, site.keyPath))
      assert.equal((await fleetgate(['validate', file])).code, 0)

      await writeFile(file, tlsConfig(join(dir, 'nowhere.pem'), site.keyPath))
      const missing = await fleetgate(['validate', file])
      assert.equal(missing.code, 1)
      assert.match(missing.stderr, /servers\.edge\.tls_cert: cannot read .*nowhere\.pem: ENOENT/)

      await writeFile(file, tlsConfig(site.certPath, other.keyPath))
      const mismatched = await fleetgate(['validate', file])
      assert.equal(mismatched.code, 1)
      assert.match(mismatched.stderr, /servers\.edge\.tls_key: /)
    } finally {
      ca.cleanup()
    }
  })
  test('names every TLS key at fault, not only the first', async () => {
    const ca = createTestCa('validate-all')
    try {
      const site = ca.issue({ dns: ['site.test'] })
      const other = ca.issue({ dns: ['other.test'] })
      const garbage = join(dir, 'garbage-ca.pem')
      await writeFile(garbage, 'not a certificate\n')
      const file = join(dir, 'tls-all.toml')
      await writeFile(
        file,
        `
[upstreams.api]
addrs = ["127.0.0.1:8001"]

[locations.web]
upstream = "api"

[certificates.gone]
domains = ["gone.test"]
tls_cert = "${join(dir, 'gone.pem')}"
tls_key = "${site.keyPath}"

[certificates.crossed]
domains = ["crossed.test"]
tls_cert = "${site.certPath}"
tls_key = "${other.keyPath}"

[certificates.fine]
domains = ["site.test"]
tls_cert = "${site.certPath}"
tls_key = "${site.keyPath}"

[servers.edge]
addr = "127.0.0.1:8443"
locations = ["web"]
certificates = ["gone", "crossed", "fine"]
tls_client_auth = "required"
tls_client_ca = "${garbage}"
`,
      )
      const { code, stderr } = await fleetgate(['validate', file])
      assert.equal(code, 1, stderr)
      assert.match(stderr, /certificates\.gone\.tls_cert: cannot read .*gone\.pem: ENOENT/)
      assert.match(stderr, /certificates\.crossed\.tls_key: /)
      assert.match(stderr, /servers\.edge\.tls_client_ca: no PEM certificate found/)
      assert.doesNotMatch(stderr, /certificates\.fine/)
    } finally {
      ca.cleanup()
    }
  })
})

describe('environment variables', () => {
  test('FLEETGATE_CONFIG and FLEETGATE_STATUS_ADDR work instead of --config and --status-addr', async () => {
    const file = join(dir, 'env.toml')
    const envPort = await freePort()
    const statusPort = await freePort()
    await writeFile(file, configFor(envPort))
    const proc = startProcess(FLEETGATE_BIN, ['proxy'], {
      env: { FLEETGATE_CONFIG: file, FLEETGATE_STATUS_ADDR: `127.0.0.1:${statusPort}` },
    })
    try {
      await waitFor(
        'env-configured gateway /readyz',
        async () => {
          if (proc.child.exitCode !== null) throw new Error(`exited ${proc.child.exitCode}: ${proc.output()}`)
          return (await fetch(`http://127.0.0.1:${statusPort}/readyz`)).status === 200
        },
        15_000,
      )
      const res = await fetch(`http://127.0.0.1:${envPort}/env-check`)
      assert.equal(res.status, 200)
      assert.equal(((await res.json()) as { url: string }).url, '/env-check')
    } finally {
      assert.equal(await proc.stop(), 0)
    }
  })
})

import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { freePort, startEtcd, startProcess, type TestEtcd, type TestProcess, waitFor } from '@fleetgate/testkit'

const ROOT = new URL('../../../../', import.meta.url).pathname
const FLEETGATE = join(ROOT, 'node_modules/.bin/fleetgate')

const BASE_TOML = `[upstreams.api]
addrs = ["127.0.0.1:8001"]

[locations.api]
upstream = "api"
path = "/api"

[servers.main]
addr = "127.0.0.1:8080"
locations = ["api"]
`
const CHANGED_TOML = `${BASE_TOML.replace('127.0.0.1:8001', '127.0.0.1:8002')}
[upstreams.web]
addrs = ["127.0.0.1:9000"]
`

/** The environment without any FLEETGATE_* variable of the developer's shell. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('FLEETGATE_')))
  return { ...env, ...extra }
}

interface Run {
  code: number
  stdout: string
  stderr: string
}

function fleetgate(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(FLEETGATE, args, { env: cleanEnv(env), timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0
      resolve({ code, stdout, stderr })
    })
  })
}

describe('fleetgate control-plane and ctl on etcd', () => {
  let etcd: TestEtcd
  let dir: string
  let tokenStore: string
  let server: string
  let port: number
  let cp: TestProcess
  let cpStdout = ''
  let cpStderr = ''
  let token = ''

  async function startControlPlane(): Promise<void> {
    cpStdout = ''
    cpStderr = ''
    cp = startProcess(
      FLEETGATE,
      ['control-plane', '--etcd', etcd.endpoint, '--cluster', 'e2e', '--listen', `127.0.0.1:${port}`, '--token-store', tokenStore],
      { env: cleanEnv({ HOME: dir, FLEETGATE_READONLY_TOKEN: 'viewer-token-0123456789' }) },
    )
    cp.child.stdout?.on('data', (chunk: Buffer) => (cpStdout += chunk.toString()))
    cp.child.stderr?.on('data', (chunk: Buffer) => (cpStderr += chunk.toString()))
    await waitFor(`control plane ready: ${cp.output()}`, async () => (await fetch(`${server}/readyz`)).status === 200, 15_000, 100)
  }

  const ctl = (args: string[], env: Record<string, string> = {}) =>
    fleetgate(['ctl', '--server', server, ...args], { FLEETGATE_TOKEN: token, ...env })

  before(async () => {
    etcd = await startEtcd()
    dir = await mkdtemp(join(tmpdir(), 'fleetgate-ctl-'))
    tokenStore = join(dir, 'state', 'e2e.admin-token')
    port = await freePort()
    server = `http://127.0.0.1:${port}`
    await writeFile(join(dir, 'base.toml'), BASE_TOML)
    await writeFile(join(dir, 'changed.toml'), CHANGED_TOML)
    await writeFile(join(dir, 'invalid.toml'), BASE_TOML.replace('upstream = "api"', 'upstream = "apii"'))
    await startControlPlane()
  })
  after(async () => {
    await cp?.stop()
    await etcd?.stop()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  test('generates an admin token once, prints it on stderr only, and keeps it in a 0600 file', async () => {
    const m = /shown only this once\):\n\n {2}(\S+)\n/.exec(cpStderr)
    assert.ok(m, `no token on stderr: ${cpStderr}`)
    token = m[1]!
    assert.ok(token.length >= 32)
    assert.ok(!cpStdout.includes(token), 'the token must not reach the log')
    assert.equal((await stat(tokenStore)).mode & 0o777, 0o600)
  })

  test('ctl apply publishes generation 1 and ctl get prints the config as TOML', async () => {
    const apply = await ctl(['apply', '-f', join(dir, 'base.toml'), '-m', 'first'])
    assert.equal(apply.code, 0, apply.stderr)
    assert.match(apply.stdout, /published generation 1/)
    const get = await ctl(['get'])
    assert.equal(get.code, 0, get.stderr)
    assert.match(get.stdout, /\[upstreams\.api\]\naddrs = \[ "127\.0\.0\.1:8001" \]/)
    const one = await ctl(['get', 'upstreams', 'api', '--json'])
    assert.deepEqual(JSON.parse(one.stdout), { addrs: ['127.0.0.1:8001'] })
  })

  test('ctl apply of an invalid file exits 1 and prints each error as "path: message"', async () => {
    const res = await ctl(['apply', '-f', join(dir, 'invalid.toml')])
    assert.equal(res.code, 1)
    assert.match(res.stderr, /^locations\.api\.upstream: unknown upstream "apii"/m)
  })

  test('ctl history prints an aligned table and ctl diff prints +/~ lines', async () => {
    assert.equal((await ctl(['apply', '-f', join(dir, 'changed.toml'), '-m', 'add web'])).code, 0)
    const history = await ctl(['history'])
    assert.equal(history.code, 0, history.stderr)
    const lines = history.stdout.trimEnd().split('\n')
    assert.match(lines[0]!, /^GEN\s+CREATED \(UTC\)\s+AUTHOR\s+PARENT\s+ROLLBACK OF\s+SHA256\s+MESSAGE$/)
    assert.match(lines[1]!, /^2\s+\S+ \S+\s+admin\s+1\s+-\s+[0-9a-f]{12}\s+add web$/)
    assert.match(lines[2]!, /^1\s.*first$/)
    assert.equal(lines[1]!.indexOf('admin'), lines[0]!.indexOf('AUTHOR'))
    const diff = await ctl(['diff', '1', '2'])
    assert.equal(diff.code, 0, diff.stderr)
    assert.equal(diff.stdout, '+ upstreams.web\n~ upstreams.api: addrs\n')
  })

  test('ctl rollback holds auto-publish; status, fleet, release and restore report it', async () => {
    const rollback = await ctl(['rollback', '1'])
    assert.equal(rollback.code, 0, rollback.stderr)
    assert.match(rollback.stdout, /rolled back to generation 1: published generation 3\nnote: a rollback holds auto-publish/)
    const status = await ctl(['status'])
    assert.match(status.stdout, /state: +ok\ngeneration: 3\nheld: +yes/)
    // An apply while the hold is on is stored, not published: it is not "no change".
    const held = await ctl(['apply', '-f', join(dir, 'changed.toml')])
    assert.equal(held.code, 0, held.stderr)
    assert.match(held.stdout, /: stored, not published: a rollback holds generation 3\nnote: a rollback holds auto-publish/)
    const fleet = await ctl(['fleet'])
    assert.equal(fleet.code, 0)
    assert.equal(
      fleet.stdout,
      'NODE  ADDRESS  VERSION  APPLIED  REJECTED  LAST SEEN (UTC)  STALE  REQ/S  5XX  P99 MS  RSS MB\n' +
        '0 nodes (0 current, 0 behind, 0 rejected, 0 stale); 0 req/s, 5xx -, max p99 - ms, RSS 0.0 MB\n',
    )
    const release = await ctl(['release'])
    assert.equal(release.code, 0, release.stderr)
    assert.match(release.stdout, /released the hold: published generation 4\n$/)
    const restore = await ctl(['restore', '1'])
    assert.equal(restore.code, 0, restore.stderr)
    assert.match(restore.stdout, /restored generation 1 into desired\/: published generation 5/)
  })

  test('ctl exits 1 for a missing resource or file, 2 for usage errors', async () => {
    assert.equal((await ctl(['get', 'upstreams', 'nope'])).code, 1)
    assert.equal((await ctl(['apply', '-f', join(dir, 'missing.toml')])).code, 1)
    for (const args of [['diff', '1'], ['bogus'], ['rollback', 'abc'], ['apply'], ['history', '--no-such-flag'], []]) {
      const res = await ctl(args)
      assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`)
      assert.match(res.stderr, /usage: fleetgate ctl/)
    }
  })

  test('ctl exits 3 on a wrong token, a read-only token writing, and an unreachable server', async () => {
    const wrong = await ctl(['history'], { FLEETGATE_TOKEN: 'wrong' })
    assert.equal(wrong.code, 3)
    assert.match(wrong.stderr, /token was refused/)
    const viewer = await ctl(['apply', '-f', join(dir, 'base.toml')], { FLEETGATE_TOKEN: 'viewer-token-0123456789' })
    assert.equal(viewer.code, 3)
    assert.match(viewer.stderr, /read-only/)
    assert.equal((await ctl(['history'], { FLEETGATE_TOKEN: 'viewer-token-0123456789' })).code, 0)
    const closed = await fleetgate(['ctl', 'history'], { FLEETGATE_SERVER: `127.0.0.1:${await freePort()}`, FLEETGATE_TOKEN: token })
    assert.equal(closed.code, 3)
    assert.match(closed.stderr, /cannot reach/)
  })

  test('ctl names unreadable stored records on stderr: a manifest in history, a desired/ key in get', async () => {
    const manifest = '/fleetgate/e2e/versions/00000000000000000099'
    const desired = '/fleetgate/e2e/desired/upstreams/broken'
    await etcd.etcdctl(['put', manifest, 'garbage{'])
    await etcd.etcdctl(['put', desired, 'addrs = ['])
    try {
      const history = await ctl(['history'])
      assert.equal(history.code, 0, history.stderr)
      assert.match(history.stdout, /^5\s/m)
      assert.match(history.stderr, /warning: versions\/00000000000000000099 is unreadable/)
      const get = await ctl(['get'])
      assert.equal(get.code, 0, get.stderr)
      assert.match(get.stderr, /warning: left out, unreadable in the store .*desired\/upstreams\/broken/)
      assert.doesNotMatch(get.stdout, /broken/)
    } finally {
      await etcd.etcdctl(['del', manifest])
      await etcd.etcdctl(['del', desired])
    }
  })

  test('SIGTERM stops the control plane cleanly and a restart reuses the stored token without printing it', async () => {
    assert.equal(await cp.stop(10_000), 0)
    await startControlPlane()
    assert.ok(!cpStderr.includes(token), 'the token is printed only once')
    const history = await ctl(['history'])
    assert.equal(history.code, 0, history.stderr)
    assert.match(history.stdout, /^5\s/m)
  })
})

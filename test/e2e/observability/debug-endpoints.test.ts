// /debug/cpu-profile and /debug/heap-snapshot on the data plane's status listener: token only.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { FLEETGATE_BIN, freePort, type GatewayProcess, startBackend, startGateway, type TestBackend } from '@fleetgate/testkit'

let backend: TestBackend
let gateway: GatewayProcess
let plain: GatewayProcess
let dir: string
let proxyPort: number
const token = randomBytes(24).toString('hex')

const config = (port: number) => `
[upstreams.api]
addrs = ["${backend.addr}"]

[locations.api]
upstream = "api"
path = "/"

[servers.main]
addr = "127.0.0.1:${port}"
locations = ["api"]
`

const get = (base: string, path: string, auth?: string) =>
  fetch(`${base}${path}`, auth === undefined ? {} : { headers: { authorization: `Bearer ${auth}` } })

before(async () => {
  backend = await startBackend('api')
  dir = await mkdtemp(join(tmpdir(), 'fleetgate-debug-'))
  const tokenFile = join(dir, 'debug-token')
  await writeFile(tokenFile, `# rotated weekly\n${token}\n`, { mode: 0o600 })
  proxyPort = await freePort()
  gateway = await startGateway(config(proxyPort), ['--debug-token-file', tokenFile])
  plain = await startGateway(config(await freePort()))
})

after(async () => {
  await gateway?.stop()
  await plain?.stop()
  await backend?.close()
  await rm(dir, { recursive: true, force: true })
})

describe('debug endpoints', () => {
  test('answer 401 without a token or with a wrong one', async () => {
    for (const auth of [undefined, 'wrong-token-wrong-token', `${token}x`]) {
      for (const path of ['/debug/cpu-profile?seconds=1', '/debug/heap-snapshot']) {
        const res = await get(gateway.statusUrl, path, auth)
        assert.equal(res.status, 401, `${path} with ${auth === undefined ? 'no token' : 'a wrong token'}`)
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer /)
        assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'UNAUTHORIZED')
      }
    }
  })

  test('answer 404 when no debug token is configured', async () => {
    for (const path of ['/debug/cpu-profile?seconds=1', '/debug/heap-snapshot']) {
      const res = await get(plain.statusUrl, path, token)
      assert.equal(res.status, 404)
      await res.text()
    }
  })

  test('return a CPU profile of the asked length', async () => {
    const started = performance.now()
    const res = await get(gateway.statusUrl, '/debug/cpu-profile?seconds=1', token)
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-disposition') ?? '', /filename="fleetgate-\d+-\d+\.cpuprofile"/)
    const profile = (await res.json()) as { nodes: Array<{ callFrame: { functionName: string } }>; startTime: number; endTime: number }
    assert.ok(performance.now() - started >= 950, 'the profile ran for the asked second')
    assert.ok(profile.nodes.length > 0)
    assert.ok(profile.nodes.some((n) => n.callFrame.functionName === '(root)'))
    assert.ok(profile.endTime - profile.startTime >= 900_000, 'about one second, in microseconds')
  })

  test('refuse a profile length out of bounds', async () => {
    for (const seconds of ['0', '61', 'abc', '1.5', '']) {
      const res = await get(gateway.statusUrl, `/debug/cpu-profile?seconds=${seconds}`, token)
      assert.equal(res.status, 400, `seconds=${seconds}`)
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'BAD_REQUEST')
    }
  })

  test('take one profile at a time', async () => {
    const first = get(gateway.statusUrl, '/debug/cpu-profile?seconds=1', token)
    await new Promise((r) => setTimeout(r, 200))
    const second = await get(gateway.statusUrl, '/debug/cpu-profile?seconds=1', token)
    assert.equal(second.status, 409)
    await second.text()
    assert.equal((await first).status, 200)
    await (await first).text()
  })

  test('stream a heap snapshot', async () => {
    const res = await get(gateway.statusUrl, '/debug/heap-snapshot', token)
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-disposition') ?? '', /\.heapsnapshot"$/)
    const snapshot = JSON.parse(await res.text()) as {
      snapshot: { meta: { node_fields: string[] }; node_count: number }
      strings: string[]
    }
    assert.ok(snapshot.snapshot.meta.node_fields.includes('name'))
    assert.ok(snapshot.snapshot.node_count > 1000)
    assert.ok(snapshot.strings.includes('fleetgate.start'), "the gateway's own symbols are in it")
  })

  test('the gateway keeps proxying after profiling', async () => {
    const res = await fetch(`http://127.0.0.1:${proxyPort}/x`)
    assert.equal(res.status, 200)
    assert.equal(((await res.json()) as { backend: string }).backend, 'api')
  })

  test('never log the token', () => {
    assert.ok(!gateway.process.output().includes(token))
  })

  test('a token file that holds no token stops the start with a clear error', async () => {
    const empty = join(dir, 'empty')
    await writeFile(empty, '# nothing here\n')
    const configFile = join(dir, 'gw.toml')
    await writeFile(configFile, config(await freePort()))
    const run = spawnSync(FLEETGATE_BIN, ['proxy', '--config', configFile, '--debug-token-file', empty], {
      encoding: 'utf8',
      timeout: 20_000,
    })
    assert.notEqual(run.status, 0)
    assert.match(run.stderr + run.stdout, /--debug-token-file: .* holds no token/)
  })
})

// The `server_timing` location option: a Server-Timing header with the upstream's and the gateway's time.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { FLEETGATE_BIN, freePort, type GatewayProcess, startBackend, startGateway, type TestBackend } from '@fleetgate/testkit'

let backend: TestBackend
let gateway: GatewayProcess
let base: string

before(async () => {
  // Answers after 60 ms, so the upstream share of the timing is measurable.
  backend = await startBackend('slow', (_req, res) => {
    setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'), 60)
  })
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  gateway = await startGateway(`
[upstreams.slow]
addrs = ["${backend.addr}"]

[locations.timed]
upstream = "slow"
path = "/timed"
server_timing = true

[locations.plain]
upstream = "slow"
path = "/plain"

[servers.main]
addr = "127.0.0.1:${port}"
locations = ["timed", "plain"]
`)
})

after(async () => {
  await gateway?.stop()
  await backend?.close()
})

test('adds upstream and total durations in ms on a server_timing location', async () => {
  const res = await fetch(`${base}/timed/a`)
  assert.equal(res.status, 200)
  assert.equal(await res.text(), 'ok')
  const header = res.headers.get('server-timing') ?? ''
  const match = /^upstream;dur=(\d+\.\d), total;dur=(\d+\.\d)$/.exec(header)
  assert.ok(match, `Server-Timing "${header}"`)
  const upstream = Number(match[1])
  const total = Number(match[2])
  assert.ok(upstream >= 55, `upstream ${upstream} ms covers the backend's 60 ms delay`)
  assert.ok(total >= upstream, `total ${total} >= upstream ${upstream}`)
  assert.ok(total < 5_000)
})

test('adds no Server-Timing header elsewhere', async () => {
  const res = await fetch(`${base}/plain/a`)
  await res.text()
  assert.equal(res.headers.get('server-timing'), null)
})

test('a misspelt server_timing key is refused with a suggestion', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fleetgate-st-'))
  const file = join(dir, 'bad.toml')
  await writeFile(file, '[upstreams.a]\naddrs = ["127.0.0.1:1"]\n\n[locations.l]\nupstream = "a"\nserver_timings = true\n')
  const out = spawnSync(FLEETGATE_BIN, ['validate', file], { encoding: 'utf8' })
  assert.equal(out.status, 1)
  await rm(dir, { recursive: true, force: true })
  assert.match(out.stdout + out.stderr, /server_timings.*server_timing/s)
})

// The gateway's own error answers go through the plugins' response hooks (a 502 from a dead
// upstream gets CORS headers, a 404 gets a server's global security headers), a server without
// plugins answers exactly as before, and the access log's {size} counts the bytes sent after
// compression.
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { freePort, type GatewayProcess, refusedPort, startBackend, startGateway, type TestBackend, waitFor } from '@fleetgate/testkit'
import { request } from 'undici'

const ORIGIN = 'https://app.example'
let backend: TestBackend
let gateway: GatewayProcess
let dir: string
let withPlugins: string
let plain: string

before(async () => {
  backend = await startBackend('app', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('compress me '.repeat(2000))
  })
  dir = await mkdtemp(join(tmpdir(), 'fleetgate-gateway-errors-'))
  const deadPort = await refusedPort()
  const [port, plainPort] = [await freePort(), await freePort()]
  withPlugins = `http://127.0.0.1:${port}`
  plain = `http://127.0.0.1:${plainPort}`
  gateway = await startGateway(`
[upstreams.dead]
addrs = ["127.0.0.1:${deadPort}"]
[upstreams.app]
addrs = ["${backend.addr}"]
[plugins.cors]
type = "cors"
allow_origins = ["${ORIGIN}"]
[plugins.sec]
type = "security_headers"
[plugins.zip]
type = "compression"
[locations.down]
upstream = "dead"
path = "/down"
plugins = ["cors"]
[locations.big]
upstream = "app"
path = "/big"
plugins = ["zip"]
[locations.plain_down]
upstream = "dead"
path = "/down"
[servers.main]
addr = "127.0.0.1:${port}"
locations = ["down", "big"]
plugins = ["sec"]
access_log = "{path} {status} {size}"
access_log_path = ${JSON.stringify(join(dir, 'access.log'))}
[servers.plain]
addr = "127.0.0.1:${plainPort}"
locations = ["plain_down"]
`)
})

after(async () => {
  await gateway?.stop()
  await backend?.close()
  await rm(dir, { recursive: true, force: true })
})

async function call(url: string, headers: Record<string, string> = {}) {
  const res = await request(url, { headers })
  const body = Buffer.from(await res.body.arrayBuffer())
  return { status: res.statusCode, headers: res.headers, body }
}

test('a 502 from an unreachable upstream carries the CORS headers of its location', async () => {
  const res = await call(`${withPlugins}/down/x`, { origin: ORIGIN })
  assert.equal(res.status, 502)
  assert.equal(res.headers['access-control-allow-origin'], ORIGIN)
  assert.equal(res.headers['x-content-type-options'], 'nosniff')
  assert.equal(JSON.parse(res.body.toString()).error.status, 502)
  assert.equal(res.headers['content-length'], String(res.body.length))
})

test("a 404 no location takes carries the server's global security headers", async () => {
  const res = await call(`${withPlugins}/nowhere`)
  assert.equal(res.status, 404)
  assert.equal(res.headers['x-fleetgate-error'], 'NO_ROUTE')
  assert.equal(res.headers['x-content-type-options'], 'nosniff')
  assert.equal(res.headers['x-frame-options'], 'DENY')
})

test('without plugins, gateway errors are answered as before', async () => {
  const res = await call(`${plain}/down/x`, { origin: ORIGIN })
  assert.equal(res.status, 502)
  assert.equal(res.headers['access-control-allow-origin'], undefined)
  assert.equal(res.headers['x-content-type-options'], undefined)
  assert.equal(res.headers['x-fleetgate-error'], 'UPSTREAM_CONNECT')
  const missing = await call(`${plain}/nowhere`)
  assert.equal(missing.status, 404)
  assert.equal(missing.headers['x-content-type-options'], undefined)
})

test('the access log size is the bytes sent to the client, after compression', async () => {
  const res = await call(`${withPlugins}/big/page`, { 'accept-encoding': 'gzip' })
  assert.equal(res.headers['content-encoding'], 'gzip')
  assert.ok(res.body.length < 24_000 / 10)
  const file = join(dir, 'access.log')
  let line: string | undefined
  await waitFor(
    'the access log line of /big/page',
    () => {
      line = existsSync(file)
        ? readFileSync(file, 'utf8')
            .split('\n')
            .find((l) => l.startsWith('/big/page '))
        : undefined
      return line !== undefined
    },
    5_000,
  )
  assert.equal(line, `/big/page 200 ${res.body.length}`)
})

// How a request the client abandoned is recorded, through a real gateway process with a slow
// backend: 499 and CLIENT_CLOSED (nginx's convention) in the access log and the metrics when no
// head went out, the head's status with CLIENT_CLOSED when the body was cut, and 499 for an
// upload abandoned mid-body (HTTP/1.1 FIN or RST, HTTP/2 stream reset), never held against the
// backend. And the gateway's own error answers (404 NO_ROUTE, 400 for `GET *`) logged with
// their real body size.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { connect as connectH2, constants as h2 } from 'node:http2'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  freePort,
  type GatewayProcess,
  jsonLogEntry,
  logLines,
  metricValue,
  rawRequest,
  startBackend,
  startGateway,
  type TestBackend,
} from '@fleetgate/testkit'

let backend: TestBackend
let gateway: GatewayProcess
let dir: string
let port: number
let combinedPort: number
const pending = new Set<NodeJS.Timeout>()

before(async () => {
  backend = await startBackend('slow', (req, res) => {
    if (req.url === '/slow') {
      pending.add(setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('late'), 1500))
      return
    }
    if (req.url?.startsWith('/upload')) {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('stored')
      return
    }
    // /cut: the head goes out at once, the body never ends.
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.write('first part')
  })
  dir = await mkdtemp(join(tmpdir(), 'fleetgate-client-abort-'))
  port = await freePort()
  combinedPort = await freePort()
  gateway = await startGateway(`
[upstreams.slow]
addrs = ["${backend.addr}"]

[locations.slow]
upstream = "slow"
path = "/"

[locations.api]
upstream = "slow"
path = "/api/"

# One failure held against the only backend would eject it: the next upload would get a 503.
[upstreams.uploads]
addrs = ["${backend.addr}"]
circuit_break_failures = 1

[locations.buffered]
upstream = "uploads"
path = "/upload/buffered"
buffer_request = true

[locations.streamed]
upstream = "uploads"
path = "/upload/streamed"

[servers.main]
addr = "127.0.0.1:${port}"
locations = ["slow", "buffered", "streamed"]
h2c = true
access_log = "json"
access_log_path = ${JSON.stringify(join(dir, 'json.log'))}

[servers.combined]
addr = "127.0.0.1:${combinedPort}"
locations = ["api"]
access_log = "combined"
access_log_path = ${JSON.stringify(join(dir, 'combined.log'))}
`)
})

after(async () => {
  for (const t of pending) clearTimeout(t)
  await gateway?.stop()
  await backend?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
})

/** A /metrics sample's value (0 when absent). */
const metric = (line: RegExp) => metricValue(gateway.statusUrl, line)
/** The access log entry of the request to `path`. */
const logEntryOf = (path: string) => jsonLogEntry<{ path: string; status: number; error: string | null }>(join(dir, 'json.log'), path)

const clientClosedErrors = /^fleetgate_http_errors_total\{.*code="CLIENT_CLOSED".*\} /
const badRequestErrors = /^fleetgate_http_errors_total\{.*code="BAD_REQUEST".*\} /
const slow4xx = /^fleetgate_http_requests_total\{.*server="main".*status_class="4xx".*\} /
const slow2xx = /^fleetgate_http_requests_total\{.*server="main".*status_class="2xx".*\} /

test('records 499 CLIENT_CLOSED for a client that gave up before the response head', async () => {
  const before4xx = await metric(slow4xx)
  const before2xx = await metric(slow2xx)
  await assert.rejects(fetch(`http://127.0.0.1:${port}/slow`, { signal: AbortSignal.timeout(300) }))
  const [line] = await logLines(join(dir, 'json.log'), 1)
  const entry = JSON.parse(line as string) as { path: string; status: number; error: string | null }
  assert.deepEqual([entry.path, entry.status, entry.error], ['/slow', 499, 'CLIENT_CLOSED'])
  assert.equal(await metric(slow4xx), before4xx + 1)
  assert.equal(await metric(slow2xx), before2xx)
  assert.ok((await metric(clientClosedErrors)) >= 1)
})

test('records the head status with CLIENT_CLOSED for a client that left during the body', async () => {
  const controller = new AbortController()
  const res = await fetch(`http://127.0.0.1:${port}/cut`, { signal: controller.signal })
  assert.equal(res.status, 200)
  await sleep(100)
  controller.abort()
  const lines = await logLines(join(dir, 'json.log'), 2)
  const entry = JSON.parse(lines[1] as string) as { path: string; status: number; error: string | null }
  assert.deepEqual([entry.path, entry.status, entry.error], ['/cut', 200, 'CLIENT_CLOSED'])
})

test('logs the body size of the gateway error answers in the combined format', async () => {
  const notFound = await rawRequest(combinedPort, 'GET /nope HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n')
  assert.equal(notFound.status, 404)
  const star = await rawRequest(combinedPort, 'GET * HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n')
  assert.equal(star.status, 400)
  const lines = await logLines(join(dir, 'combined.log'), 2)
  const sizes = lines.map((l) => /" (\d{3}) (\d+) "/.exec(l)?.slice(1).map(Number))
  assert.deepEqual(sizes, [
    [404, notFound.body.length],
    [400, star.body.length],
  ])
  assert.ok(notFound.body.length > 0)
})

/**
 * Sends a request head announcing 1000 body bytes and 100 of them, then closes the socket: a
 * FIN (a client that shut down) or a RST (a client killed, or closing with unread data).
 */
async function abandonUpload(path: string, close: 'fin' | 'reset'): Promise<void> {
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  socket.write(`POST ${path} HTTP/1.1\r\nHost: example.test\r\nContent-Length: 1000\r\n\r\n${'x'.repeat(100)}`)
  await sleep(200)
  if (close === 'fin') socket.destroy()
  else socket.resetAndDestroy()
}

for (const [mode, close] of [
  ['buffered', 'fin'],
  ['buffered', 'reset'],
  ['streamed', 'fin'],
  ['streamed', 'reset'],
] as const) {
  test(`records 499 CLIENT_CLOSED for an upload abandoned mid-body (${mode}, ${close}), not held against the backend`, async () => {
    const upload4xx = new RegExp(`^fleetgate_http_requests_total\\{.*location="${mode}".*status_class="4xx".*\\} `)
    const before4xx = await metric(upload4xx)
    const beforeClosed = await metric(clientClosedErrors)
    const beforeBad = await metric(badRequestErrors)
    const path = `/upload/${mode}/${close}`
    await abandonUpload(path, close)
    const entry = await logEntryOf(path)
    assert.deepEqual([entry.status, entry.error], [499, 'CLIENT_CLOSED'])
    assert.equal(await metric(upload4xx), before4xx + 1)
    assert.equal(await metric(clientClosedErrors), beforeClosed + 1)
    assert.equal(await metric(badRequestErrors), beforeBad)
    assert.equal(await metric(/^fleetgate_upstream_ejections_total\{.*upstream="uploads".*\} /), 0)
    const res = await fetch(`http://127.0.0.1:${port}/upload/${mode}/after-${close}`, { method: 'POST', body: 'whole' })
    assert.deepEqual([res.status, await res.text()], [200, 'stored'])
  })
}

test('records 499 CLIENT_CLOSED for an HTTP/2 upload reset mid-body (buffered), and forwards nothing', async () => {
  const session = connectH2(`http://127.0.0.1:${port}`)
  const stream = session.request({ ':method': 'POST', ':path': '/upload/buffered/h2', 'content-length': '1000' })
  stream.on('error', () => {})
  stream.write('x'.repeat(100))
  await sleep(200)
  stream.close(h2.NGHTTP2_CANCEL)
  const entry = await logEntryOf('/upload/buffered/h2')
  session.destroy()
  assert.deepEqual([entry.status, entry.error], [499, 'CLIENT_CLOSED'])
  assert.equal((entry as { upstream_addr?: string | null }).upstream_addr, null)
})

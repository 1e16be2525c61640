// A request body that turns malformed partway (a bad chunk size line, bytes where a chunk's CRLF
// belongs) is the client's fault, through a real gateway process and a raw socket: answered 400
// BAD_REQUEST at once (well under request_timeout), buffered or streamed, or the connection
// closed when the upstream's head already went out; logged and counted as BAD_REQUEST, never as
// an upstream failure, and never held against the backend (circuit_break_failures = 1 would
// eject the only backend: the next request would get a 503).
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort, type GatewayProcess, jsonLogEntry, metricValue, readRawResponse, startGateway } from '@fleetgate/testkit'

let backend: Server
let gateway: GatewayProcess
let dir: string
let port: number
let slowPort: number
/** Requests the backend has seen start, by path. */
const arrived: string[] = []

before(async () => {
  // Answers once the whole body is in; /early sends its head at once, before reading the body.
  backend = createServer((req, res) => {
    arrived.push(req.url ?? '')
    if (req.url?.includes('/early')) res.writeHead(200, { 'content-type': 'text/plain' }).flushHeaders()
    req.on('error', () => {})
    req.resume()
    req.on('end', () => {
      if (!res.headersSent) res.writeHead(200, { 'content-type': 'text/plain' })
      res.end('stored')
    })
  })
  backend.listen(0, '127.0.0.1')
  await once(backend, 'listening')
  const backendAddr = `127.0.0.1:${(backend.address() as { port: number }).port}`
  dir = await mkdtemp(join(tmpdir(), 'fleetgate-broken-body-'))
  port = await freePort()
  slowPort = await freePort()
  gateway = await startGateway(`
[upstreams.uploads]
addrs = ["${backendAddr}"]
circuit_break_failures = 1

[locations.buffered]
upstream = "uploads"
path = "/buffered"
buffer_request = true

[locations.streamed]
upstream = "uploads"
path = "/streamed"

# Streamed through the gateway's byte counter (a chunked body with a size limit).
[locations.limited]
upstream = "uploads"
path = "/limited"
client_max_body_size = "1mb"

[servers.main]
addr = "127.0.0.1:${port}"
locations = ["buffered", "streamed", "limited"]
request_timeout = "30s"
access_log = "json"
access_log_path = ${JSON.stringify(join(dir, 'access.log'))}

[servers.short]
# header_timeout left at its default (30s), over request_timeout: the request limit must still hold
addr = "127.0.0.1:${slowPort}"
locations = ["buffered", "streamed", "limited"]
request_timeout = "1s"
access_log = "json"
access_log_path = ${JSON.stringify(join(dir, 'short.log'))}
`)
})

after(async () => {
  await gateway?.stop()
  backend?.closeAllConnections()
  backend?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
})

interface LogEntry {
  path: string
  status: number
  error: string | null
}

/** The access log entry of the request to `path` in `log`. */
const logEntryOf = (path: string, log = 'access.log') => jsonLogEntry<LogEntry>(join(dir, log), path)
/** A /metrics sample's value (0 when absent). */
const metric = (line: RegExp) => metricValue(gateway.statusUrl, line)

const BROKEN = {
  'bad chunk size': 'zz\r\nhello\r\n',
  'garbage after a chunk': 'hello!!\r\n',
} as const

/**
 * Sends a chunked POST whose first chunk is well formed and whose next bytes are `broken`, with
 * a pause between so that the gateway has started on the request; resolves with what comes back
 * on the socket (the raw response, or an error when the connection closes without one).
 */
async function sendBrokenBody(path: string, broken: string, to = port) {
  const socket = connect(to, '127.0.0.1')
  await once(socket, 'connect')
  socket.on('error', () => {})
  const answer = readRawResponse(socket, { timeoutMs: 5_000 }).then(
    (res) => ({ res, err: undefined }),
    (err: Error) => ({ res: undefined, err }),
  )
  socket.write(`POST ${path} HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n`)
  await sleep(200)
  const sentAt = performance.now()
  socket.write(broken)
  const got = await answer
  const elapsed = performance.now() - sentAt
  const closed = socket.readableEnded || socket.destroyed
  socket.destroy()
  return { ...got, elapsed, closed }
}

for (const mode of ['buffered', 'streamed', 'limited'] as const) {
  for (const [what, broken] of Object.entries(BROKEN)) {
    test(`answers 400 BAD_REQUEST at once for a chunked body broken partway (${mode}, ${what}), never held against the backend`, async () => {
      const badRequests = /^fleetgate_http_errors_total\{.*code="BAD_REQUEST".*\} /
      const beforeBad = await metric(badRequests)
      const path = `/${mode}/${what.replaceAll(' ', '-')}`
      const { res, err, elapsed } = await sendBrokenBody(path, broken)
      assert.equal(err, undefined, `no answer: ${err?.message}`)
      assert.equal(res?.status, 400)
      assert.deepEqual(res?.headers['x-fleetgate-error'], ['BAD_REQUEST'])
      assert.ok(elapsed < 3_000, `answered after ${elapsed} ms`)
      const entry = await logEntryOf(path)
      assert.deepEqual([entry.status, entry.error], [400, 'BAD_REQUEST'])
      assert.equal(await metric(badRequests), beforeBad + 1)
      assert.equal(await metric(/^fleetgate_http_errors_total\{.*code="UPSTREAM_/), 0)
      assert.equal(await metric(/^fleetgate_upstream_ejections_total\{.*upstream="uploads".*\} /), 0)
      const good = await fetch(`http://127.0.0.1:${port}/${mode}/after`, { method: 'POST', body: 'whole' })
      assert.deepEqual([good.status, await good.text()], [200, 'stored'])
    })
  }
}

test('closes the connection for a body broken after the upstream answered its head (streamed), logged as BAD_REQUEST', async () => {
  const path = '/streamed/early'
  const { res, elapsed, closed } = await sendBrokenBody(path, BROKEN['bad chunk size'])
  // The 200 head went out before the body broke: the client sees it cut off (never whole).
  assert.ok(res === undefined || res.status === 200, `got ${res?.status}`)
  assert.ok(closed || res === undefined, 'the connection stays open')
  assert.ok(elapsed < 3_000, `closed after ${elapsed} ms`)
  const entry = await logEntryOf(path)
  assert.deepEqual([entry.status, entry.error], [200, 'BAD_REQUEST'])
  assert.equal(await metric(/^fleetgate_upstream_ejections_total\{.*upstream="uploads".*\} /), 0)
  const good = await fetch(`http://127.0.0.1:${port}/streamed/after-early`, { method: 'POST', body: 'whole' })
  assert.deepEqual([good.status, await good.text()], [200, 'stored'])
  assert.equal(arrived.filter((p) => p === path).length, 1, 'retried on the backend')
})

for (const mode of ['buffered', 'streamed', 'limited'] as const) {
  test(`answers 408 REQUEST_TIMEOUT for a body still unfinished at request_timeout (${mode}), never held against the backend`, async () => {
    const path = `/${mode}/unfinished`
    // Nothing broken: the rest of the body just never comes.
    const { res, err, elapsed } = await sendBrokenBody(path, '', slowPort)
    assert.equal(err, undefined, `no answer: ${err?.message}`)
    assert.equal(res?.status, 408)
    assert.ok(elapsed < 4_000, `answered after ${elapsed} ms`)
    const entry = await logEntryOf(path, 'short.log')
    assert.deepEqual([entry.status, entry.error], [408, 'REQUEST_TIMEOUT'])
    assert.equal(await metric(/^fleetgate_upstream_ejections_total\{.*upstream="uploads".*\} /), 0)
    const good = await fetch(`http://127.0.0.1:${slowPort}/${mode}/after-timeout`, { method: 'POST', body: 'whole' })
    assert.deepEqual([good.status, await good.text()], [200, 'stored'])
  })
}

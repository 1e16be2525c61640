// The errors the gateway answers itself (413, 431, 400, 502, 504), each with its code in
// the body, and the gateway still serving a normal request after each.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createServer, type Server, type Socket } from 'node:net'
import { Readable } from 'node:stream'
import { after, afterEach, before, test } from 'node:test'
import { promisify } from 'node:util'
import { freePort, type GatewayProcess, rawRequest, refusedPort, startBackend, startGateway, type TestBackend } from '@fleetgate/testkit'
import { Agent, request } from 'undici'

const run = promisify(execFile)
let echo: TestBackend
let silent: Server
const silentSockets = new Set<Socket>()
let gateway: GatewayProcess
let port: number
const agent = new Agent({ connections: 4 })

before(async () => {
  echo = await startBackend('echo')
  // Accepts connections and reads requests but never answers.
  silent = createServer((socket) => {
    silentSockets.add(socket.on('error', () => {}).resume())
  })
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  const deadPort = await refusedPort()
  port = await freePort()
  gateway = await startGateway(`
[upstreams.echo]
addrs = ["${echo.addr}"]

[upstreams.dead]
addrs = ["127.0.0.1:${deadPort}"]

[upstreams.silent]
addrs = ["127.0.0.1:${(silent.address() as { port: number }).port}"]
read_timeout = "300ms"

[locations.limited]
upstream = "echo"
path = "/upload"
client_max_body_size = "1kb"

[locations.dead]
upstream = "dead"
path = "/dead"

[locations.silent]
upstream = "silent"
path = "/silent"

[locations.echo]
upstream = "echo"
path = "/"

[servers.main]
addr = "127.0.0.1:${port}"
locations = ["limited", "dead", "silent", "echo"]
max_header_size = "4kb"
max_headers = 20
header_timeout = "1s"
`)
})

after(async () => {
  await agent.close()
  await gateway?.stop()
  await echo?.close()
  for (const socket of silentSockets) socket.destroy()
  await new Promise((resolve) => silent?.close(resolve))
})

// Every error below must leave the gateway serving: a plain request after each one still works.
afterEach(async () => {
  const res = await request(`http://127.0.0.1:${port}/ok`, { dispatcher: agent })
  assert.equal(res.statusCode, 200)
  assert.equal(((await res.body.json()) as { url: string }).url, '/ok')
})

/** The `error.code` of a gateway error body. */
function codeOf(body: string | Buffer): string {
  return (JSON.parse(body.toString()) as { error: { code: string } }).error.code
}

test('a Content-Length over client_max_body_size gets 413 BODY_TOO_LARGE without reaching the backend', async () => {
  const hits = echo.hits
  const { stdout } = await run('curl', [
    '-sS',
    '-o',
    '-',
    '-w',
    '\n%{http_code}',
    '--data-binary',
    'x'.repeat(2000),
    `http://127.0.0.1:${port}/upload`,
  ])
  const [body, status] = stdout.split('\n').filter((l) => l !== '')
  assert.equal(status, '413')
  assert.equal(codeOf(body as string), 'BODY_TOO_LARGE')
  assert.equal(echo.hits, hits)
})

test('a body under client_max_body_size passes', async () => {
  const res = await request(`http://127.0.0.1:${port}/upload`, { dispatcher: agent, method: 'POST', body: 'y'.repeat(1000) })
  assert.equal(res.statusCode, 200)
  await res.body.dump()
  assert.equal(echo.last?.body.length, 1000)
})

test('a chunked body growing over client_max_body_size while streaming gets 413 BODY_TOO_LARGE', async () => {
  // No Content-Length: the gateway only learns the size as the chunks arrive.
  const chunks = Array.from({ length: 8 }, () => Buffer.alloc(400, 'z'))
  const res = await request(`http://127.0.0.1:${port}/upload`, { dispatcher: agent, method: 'POST', body: Readable.from(chunks) })
  const body = await res.body.text()
  assert.equal(res.statusCode, 413, body)
  assert.equal(codeOf(body), 'BODY_TOO_LARGE')
})

test('a request head over max_header_size gets 431 HEADERS_TOO_LARGE', async () => {
  const res = await rawRequest(port, `GET /ok HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(8 * 1024)}\r\n\r\n`)
  assert.equal(res.status, 431)
  assert.equal(codeOf(res.body), 'HEADERS_TOO_LARGE')
  // Node's parser refused it: the answer still has a standard status line and the code header.
  assert.match(res.head, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/)
  assert.deepEqual(res.headers['x-fleetgate-error'], ['HEADERS_TOO_LARGE'])
})

test('more headers than max_headers gets 431 HEADERS_TOO_LARGE', async () => {
  const headers = Array.from({ length: 30 }, (_, i) => `X-H${i}: v\r\n`).join('')
  const res = await rawRequest(port, `GET /ok HTTP/1.1\r\nHost: a\r\n${headers}\r\n`)
  assert.equal(res.status, 431)
  assert.equal(codeOf(res.body), 'HEADERS_TOO_LARGE')
})

test('exactly max_headers headers pass', async () => {
  const headers = Array.from({ length: 19 }, (_, i) => `X-H${i}: v\r\n`).join('')
  const res = await rawRequest(port, `GET /ok HTTP/1.1\r\nHost: a\r\n${headers}\r\n`)
  assert.equal(res.status, 200)
})

test('a malformed request line gets 400 BAD_REQUEST', async () => {
  const res = await rawRequest(port, 'THIS IS NOT HTTP\r\n\r\n')
  assert.equal(res.status, 400)
  assert.equal(codeOf(res.body), 'BAD_REQUEST')
  assert.match(res.head, /^HTTP\/1\.1 400 Bad Request\r\n/)
  assert.deepEqual(res.headers['x-fleetgate-error'], ['BAD_REQUEST'])
  assert.equal(JSON.parse(res.body.toString()).error.message, 'malformed request')
})

test('bytes after a "Connection: close" request do not replace its answer with a 400', async () => {
  const hits = echo.hits
  const res = await rawRequest(
    port,
    'POST /ok HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhelloGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n',
  )
  assert.equal(res.status, 200, res.head)
  assert.equal(echo.hits, hits + 1, 'the request ran once; the bytes after it never became a request')
  assert.equal(echo.last?.url, '/ok')
})

test('a request head not finished within header_timeout gets 408 REQUEST_TIMEOUT', async () => {
  const res = await rawRequest(port, 'GET /ok HTTP/1.1\r\nHost: a\r\nX-Slow: ', { timeoutMs: 5000 })
  assert.equal(res.status, 408)
  assert.match(res.head, /^HTTP\/1\.1 408 Request Timeout\r\n/)
  assert.deepEqual(res.headers['x-fleetgate-error'], ['REQUEST_TIMEOUT'])
  assert.equal(JSON.parse(res.body.toString()).error.message, 'the client was too slow sending the request')
})

test('a backend port with nothing listening gets 502 UPSTREAM_CONNECT', async () => {
  const res = await request(`http://127.0.0.1:${port}/dead`, { dispatcher: agent })
  assert.equal(res.statusCode, 502)
  assert.equal(codeOf(await res.body.text()), 'UPSTREAM_CONNECT')
  assert.equal(res.headers['x-fleetgate-error'], 'UPSTREAM_CONNECT')
})

test('a backend that never answers gets 504 UPSTREAM_TIMEOUT after read_timeout', async () => {
  const started = performance.now()
  const res = await request(`http://127.0.0.1:${port}/silent`, { dispatcher: agent })
  const elapsed = performance.now() - started
  assert.equal(res.statusCode, 504)
  assert.equal(codeOf(await res.body.text()), 'UPSTREAM_TIMEOUT')
  assert.ok(elapsed >= 250, `answered after ${elapsed} ms, before read_timeout`)
})

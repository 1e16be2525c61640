// X-Forwarded-*, X-Real-IP and Via as the backend sees them, with and without trusted
// proxies, and hop-by-hop headers stripped in both directions (sent on raw sockets).
import assert from 'node:assert/strict'
import { createServer, type Server, type Socket } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { freePort, type GatewayProcess, rawRequest, startBackend, startGateway, type TestBackend } from '@fleetgate/testkit'

let echo: TestBackend
let rawBackend: Server
let rawBackendPort: number
const rawSockets = new Set<Socket>()
let plain: GatewayProcess
let trusting: GatewayProcess
let plainPort: number
let trustingPort: number

/** The backend's reply to /hop-response: every hop-by-hop header a server can send, framed as `mode` says. */
function hopResponse(mode: 'length' | 'chunked'): string {
  const head = [
    'HTTP/1.1 200 OK',
    'Connection: keep-alive, X-Resp-Hop',
    'Keep-Alive: timeout=7, max=77',
    'X-Resp-Hop: secret',
    'Upgrade: h2c',
    'Proxy-Connection: keep-alive',
    'Trailer: X-Checksum',
    'X-Kept: yes',
    'Content-Type: text/plain',
  ]
  if (mode === 'length') return `${head.join('\r\n')}\r\nContent-Length: 11\r\n\r\nhello world`
  return `${head.join('\r\n')}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: 1\r\n\r\n`
}

/** A backend written on raw sockets, so its responses carry exactly the headers we choose. */
function startRawBackend(): Promise<Server> {
  const server = createServer((socket) => {
    rawSockets.add(socket)
    let seen = ''
    socket.on('data', (chunk: Buffer) => {
      seen += chunk.toString('latin1')
      if (!seen.includes('\r\n\r\n')) return
      socket.write(hopResponse(seen.startsWith('GET /hop-chunked') ? 'chunked' : 'length'))
      seen = ''
    })
    socket.on('error', () => {})
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

function gatewayToml(port: number, basic: string): string {
  return `
[basic]
${basic}

[upstreams.echo]
addrs = ["${echo.addr}"]

[upstreams.raw]
addrs = ["127.0.0.1:${rawBackendPort}"]

[locations.raw]
upstream = "raw"
path = "/hop-"

[locations.echo]
upstream = "echo"
path = "/"

[servers.main]
addr = "127.0.0.1:${port}"
locations = ["raw", "echo"]
`
}

before(async () => {
  echo = await startBackend('echo')
  rawBackend = await startRawBackend()
  rawBackendPort = (rawBackend.address() as { port: number }).port
  plainPort = await freePort()
  trustingPort = await freePort()
  plain = await startGateway(gatewayToml(plainPort, 'name = "edge-a"'))
  trusting = await startGateway(gatewayToml(trustingPort, 'name = "edge-b"\ntrusted_proxies = ["127.0.0.0/8"]'))
})

after(async () => {
  await plain?.stop()
  await trusting?.stop()
  await echo?.close()
  for (const socket of rawSockets) socket.destroy()
  await new Promise((resolve) => rawBackend?.close(resolve))
})

/** Sends a raw GET (extra header lines as given) and returns the headers the echo backend received. */
async function upstreamHeaders(port: number, lines: string[]): Promise<Record<string, string>> {
  const res = await rawRequest(port, `GET /echo HTTP/1.1\r\nHost: site.test:8080\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n`)
  assert.equal(res.status, 200, res.body.toString())
  return (JSON.parse(res.body.toString()) as { headers: Record<string, string> }).headers
}

describe('forwarding headers', () => {
  test('the backend gets X-Forwarded-For/-Proto/-Host, X-Real-IP and Via', async () => {
    const h = await upstreamHeaders(plainPort, [])
    assert.equal(h['x-forwarded-for'], '127.0.0.1')
    assert.equal(h['x-forwarded-proto'], 'http')
    assert.equal(h['x-forwarded-host'], 'site.test:8080')
    assert.equal(h['x-real-ip'], '127.0.0.1')
    assert.equal(h.via, '1.1 edge-a')
    assert.equal(h.host, 'site.test:8080')
  })
  test('the client gets a Via naming the gateway', async () => {
    const res = await rawRequest(plainPort, 'GET /echo HTTP/1.1\r\nHost: a\r\n\r\n')
    assert.deepEqual(res.headers.via, ['1.1 edge-a'])
  })
  test('a Via the client sent is kept and extended', async () => {
    const h = await upstreamHeaders(plainPort, ['Via: 1.0 corp-proxy'])
    assert.equal(h.via, '1.0 corp-proxy, 1.1 edge-a')
  })
  test('without trusted proxies a spoofed X-Forwarded-For does not set X-Real-IP', async () => {
    const h = await upstreamHeaders(plainPort, [
      'X-Forwarded-For: 6.6.6.6',
      'X-Real-IP: 6.6.6.6',
      'X-Forwarded-Proto: https',
      'Forwarded: for=6.6.6.6;proto=https',
    ])
    assert.equal(h['x-real-ip'], '127.0.0.1')
    assert.equal(h['x-forwarded-for'], '127.0.0.1')
    assert.equal(h['x-forwarded-proto'], 'http')
    assert.equal(h.forwarded, undefined, "an untrusted client's RFC 7239 Forwarded is dropped too")
  })
  test('with the peer in trusted_proxies its X-Forwarded-For gives X-Real-IP and is extended', async () => {
    const h = await upstreamHeaders(trustingPort, ['X-Forwarded-For: 203.0.113.7', 'X-Forwarded-Proto: https'])
    assert.equal(h['x-real-ip'], '203.0.113.7')
    assert.equal(h['x-forwarded-for'], '203.0.113.7, 127.0.0.1')
    assert.equal(h['x-forwarded-proto'], 'https')
    assert.equal(h.via, '1.1 edge-b')
    const f = await upstreamHeaders(trustingPort, ['Forwarded: for=203.0.113.7;proto=https'])
    assert.equal(f.forwarded, 'for=203.0.113.7;proto=https', "a trusted proxy's Forwarded is kept")
  })
  test('X-Real-IP is the right-most untrusted X-Forwarded-For entry', async () => {
    const h = await upstreamHeaders(trustingPort, ['X-Forwarded-For: 198.51.100.1, 203.0.113.7, 127.0.0.9'])
    assert.equal(h['x-real-ip'], '203.0.113.7')
  })
})

describe('hop-by-hop headers', () => {
  test('request hop-by-hop headers and those named in Connection do not reach the backend', async () => {
    const h = await upstreamHeaders(plainPort, [
      'Connection: keep-alive, X-Custom-Hop',
      'Keep-Alive: timeout=9',
      'TE: gzip',
      'Upgrade: websocket',
      'Proxy-Connection: keep-alive',
      'Proxy-Authorization: Basic Zm9vOmJhcg==',
      'X-Custom-Hop: secret',
      'X-End-To-End: kept',
    ])
    for (const name of ['keep-alive', 'te', 'upgrade', 'proxy-connection', 'proxy-authorization', 'x-custom-hop']) {
      assert.equal(h[name], undefined, name)
    }
    assert.doesNotMatch(h.connection ?? '', /x-custom-hop/i)
    assert.equal(h['x-end-to-end'], 'kept')
  })
  test('"TE: trailers" reaches the backend', async () => {
    assert.equal((await upstreamHeaders(plainPort, ['TE: trailers']))['te'], 'trailers')
    assert.equal((await upstreamHeaders(plainPort, ['TE: trailers, deflate']))['te'], 'trailers')
  })
  test('a chunked request body reaches the backend whole without the client framing', async () => {
    const res = await rawRequest(
      plainPort,
      'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
    )
    assert.equal(res.status, 200)
    assert.equal(echo.last?.body.toString(), 'hello world')
    const te = echo.last?.headers['transfer-encoding']
    // The gateway may frame the body itself (chunked once), never by forwarding the client's header list.
    assert.ok(te === undefined || te === 'chunked', String(te))
  })
  test('response hop-by-hop headers and those named in Connection do not reach the client', async () => {
    const res = await rawRequest(plainPort, 'GET /hop-length HTTP/1.1\r\nHost: a\r\n\r\n')
    assert.equal(res.status, 200)
    assert.equal(res.body.toString(), 'hello world')
    for (const name of ['x-resp-hop', 'upgrade', 'proxy-connection', 'trailer']) assert.equal(res.headers[name], undefined, name)
    assert.notDeepEqual(res.headers['keep-alive'], ['timeout=7, max=77'])
    assert.doesNotMatch((res.headers.connection ?? []).join(','), /x-resp-hop/i)
    assert.deepEqual(res.headers['x-kept'], ['yes'])
  })
  test('an upstream Transfer-Encoding is not passed to an HTTP/1.0 client', async () => {
    const res = await rawRequest(plainPort, 'GET /hop-chunked HTTP/1.0\r\nHost: a\r\n\r\n')
    assert.equal(res.status, 200)
    assert.equal(res.headers['transfer-encoding'], undefined)
    assert.equal(res.body.toString(), 'hello world')
    assert.equal(res.headers['x-resp-hop'], undefined)
  })
})

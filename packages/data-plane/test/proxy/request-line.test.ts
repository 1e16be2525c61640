// Request lines and Host through a real gateway process: an HTTP/1 connection claiming HTTP/2.0
// gets 505 (not a crash), an HTTP/1.1 request without Host gets 400 (RFC 9112 section 3.2)
// while HTTP/1.0 may omit it, and real HTTP/2 (h2c) requests with and without a body still work.
import assert from 'node:assert/strict'
import { connect as h2connect } from 'node:http2'
import { after, before, test } from 'node:test'
import { freePort, type GatewayProcess, rawRequest, startBackend, startGateway, type TestBackend } from '@fleetgate/testkit'

let backend: TestBackend
let gateway: GatewayProcess
let port: number
let h2cPort: number

before(async () => {
  backend = await startBackend('app', (req, res, body) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ host: req.headers.host ?? null, length: body.length }))
  })
  port = await freePort()
  h2cPort = await freePort()
  gateway = await startGateway(`
[upstreams.app]
addrs = ["${backend.addr}"]

[locations.app]
upstream = "app"
path = "/"

[servers.main]
addr = "127.0.0.1:${port}"
locations = ["app"]

[servers.h2c]
addr = "127.0.0.1:${h2cPort}"
locations = ["app"]
h2c = true
`)
})

after(async () => {
  await gateway?.stop()
  await backend?.close()
})

const errorCode = (body: Buffer) => (JSON.parse(body.toString()) as { error: { code: string } }).error.code

for (const [name, at] of [
  ['a plain listener', () => port],
  ['an h2c listener', () => h2cPort],
] as const) {
  test(`answers 505 to an HTTP/1 request line claiming HTTP/2.0 on ${name}`, async () => {
    const res = await rawRequest(at(), 'GET / HTTP/2.0\r\nHost: example.test\r\n\r\n')
    assert.equal(res.status, 505, res.head)
    assert.equal(res.headers['x-fleetgate-error']?.[0], 'HTTP_VERSION_NOT_SUPPORTED')
    assert.equal(errorCode(res.body), 'HTTP_VERSION_NOT_SUPPORTED')
  })
}

test('answers 400 to an HTTP/1.1 request without Host, without reaching the upstream', async () => {
  const hits = backend.hits
  const res = await rawRequest(port, 'GET / HTTP/1.1\r\nUser-Agent: t\r\n\r\n')
  assert.equal(res.status, 400, res.head)
  assert.equal(errorCode(res.body), 'BAD_REQUEST')
  assert.equal(backend.hits, hits)
})

for (const [what, head] of [
  ['two Host lines', 'GET / HTTP/1.1\r\nHost: pub.test\r\nhost: priv.test\r\n\r\n'],
  ['an absolute-form target whose authority is not the Host', 'GET http://priv.test/ HTTP/1.1\r\nHost: pub.test\r\n\r\n'],
]) {
  test(`answers 400 to ${what} (RFC 9112 section 3.2), without reaching the upstream`, async () => {
    const hits = backend.hits
    const res = await rawRequest(port, head as string)
    assert.equal(res.status, 400, res.head)
    assert.equal(errorCode(res.body), 'BAD_REQUEST')
    assert.equal(backend.hits, hits)
  })
}

test('proxies an absolute-form target whose authority is the Host, default port spelt out or not', async () => {
  for (const head of [
    'GET http://example.test/a HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n',
    'GET http://example.test/a HTTP/1.1\r\nHost: example.test:80\r\nConnection: close\r\n\r\n',
  ]) {
    const res = await rawRequest(port, head)
    assert.equal(res.status, 200, res.head)
  }
})

test('still proxies an HTTP/1.0 request without Host', async () => {
  const res = await rawRequest(port, 'GET / HTTP/1.0\r\n\r\n')
  assert.equal(res.status, 200, res.head)
})

test('still proxies an HTTP/1.1 request with Host', async () => {
  const res = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n')
  assert.equal(res.status, 200, res.head)
  assert.equal((JSON.parse(res.body.toString()) as { host: string }).host, 'example.test')
})

test('proxies real HTTP/2 requests (h2c) with and without a body', async () => {
  const session = h2connect(`http://127.0.0.1:${h2cPort}`)
  const exchange = (method: string, body?: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const stream = session.request({ ':method': method, ':path': '/h2' }, { endStream: body === undefined })
      let status = 0
      let text = ''
      stream.on('response', (h) => {
        status = Number(h[':status'])
      })
      stream.setEncoding('utf8')
      stream.on('data', (c: string) => {
        text += c
      })
      stream.on('end', () => resolve({ status, text }))
      stream.on('error', reject)
      if (body !== undefined) stream.end(body)
    })
  try {
    const got = await exchange('GET')
    assert.equal(got.status, 200, got.text)
    const posted = await exchange('POST', 'x'.repeat(1000))
    assert.equal(posted.status, 200, posted.text)
    assert.equal((JSON.parse(posted.text) as { length: number }).length, 1000)
  } finally {
    session.close()
  }
})

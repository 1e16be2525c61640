// max_header_size on a real gateway: enforced over HTTP/2 (h2c by prior knowledge and h2 by
// ALPN) with the same 431 as HTTP/1.1 and nothing sent upstream, and applied by a hot reload.
import assert from 'node:assert/strict'
import http2 from 'node:http2'
import { request as httpsRequest } from 'node:https'
import { after, before, describe, test } from 'node:test'
import { configHash } from '@fleetgate/schema'
import { createTestCa, freePort, rawRequest, startBackend, type TestBackend, type TestCa } from '@fleetgate/testkit'
import { createGateway, type Gateway } from '../../src/gateway.ts'
import { recordingLogger, tomlConfig } from '../tls/tls-fixture.ts'

interface H2Answer {
  status: number
  /** x-fleetgate-error, when the gateway answered itself. */
  code: string | undefined
  body: string
}

/** One GET over `session`; a stream reset rejects. */
function h2Get(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': '/x', ...headers })
    let status = 0
    let code: string | undefined
    let body = ''
    stream.on('response', (h) => {
      status = Number(h[':status'])
      code = h['x-fleetgate-error'] as string | undefined
    })
    stream.setEncoding('utf8')
    stream.on('data', (chunk: string) => {
      body += chunk
    })
    stream.on('end', () => resolve({ status, code, body }))
    stream.on('error', reject)
  })
}

/** An HTTP/1.1 GET on a new connection with one header of `size` bytes. */
function h1Get(port: number, size: number) {
  return rawRequest(port, `GET /x HTTP/1.1\r\nHost: gw.test\r\nx-big: ${'a'.repeat(size)}\r\nConnection: close\r\n\r\n`)
}

/** An HTTP/1.1 GET over TLS on a new connection with one header of `size` bytes; resolves with the status. */
function h1TlsGet(port: number, ca: string, size: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, path: '/x', servername: 'gw.test', ca, agent: false, headers: { 'x-big': 'a'.repeat(size) } },
      (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
      },
    )
    req.on('error', reject)
    req.end()
  })
}

describe('max_header_size', () => {
  let backend: TestBackend
  let ca: TestCa
  let gateway: Gateway
  let h2cPort: number
  let tlsPort: number
  let generation = 0
  let cert: { certPath: string; keyPath: string }

  const config = (h2cLimit: string, tlsLimit: string) =>
    tomlConfig(`
[upstreams.b]
addrs = ["${backend.addr}"]

[locations.all]
upstream = "b"
path = "/"

[servers.h2c]
addr = "127.0.0.1:${h2cPort}"
h2c = true
max_header_size = "${h2cLimit}"
locations = ["all"]

[servers.tls]
addr = "127.0.0.1:${tlsPort}"
tls_cert = "${cert.certPath}"
tls_key = "${cert.keyPath}"
enable_http2 = true
max_header_size = "${tlsLimit}"
locations = ["all"]
`)

  const apply = async (h2cLimit: string, tlsLimit = '16kb') => {
    const next = config(h2cLimit, tlsLimit)
    generation++
    await gateway.apply(next, { generation, sha256: configHash(next), source: 'test' })
  }

  before(async () => {
    backend = await startBackend('b')
    ca = createTestCa()
    cert = ca.issue({ dns: ['gw.test'], ips: ['127.0.0.1'] })
    ;[h2cPort, tlsPort] = await Promise.all([freePort(), freePort()])
    gateway = createGateway({ logger: recordingLogger().logger })
    await apply('4kb')
  })

  after(async () => {
    await gateway?.shutdown()
    await backend?.close()
    ca?.cleanup()
  })

  test('an h2c request over the limit gets the HTTP/1.1 431, on a new and on a settled session, and is not proxied', async () => {
    const h1 = await h1Get(h2cPort, 8000)
    assert.equal(h1.status, 431)
    const hits = backend.hits
    const session = http2.connect(`http://127.0.0.1:${h2cPort}`)
    try {
      // The first stream goes out before the client acknowledged the gateway's SETTINGS, the later ones after.
      for (let i = 0; i < 3; i++) {
        const answer = await h2Get(session, { 'x-big': 'a'.repeat(8000) })
        assert.equal(answer.status, 431)
        assert.equal(answer.body, h1.body.toString())
        assert.match(answer.body, /"code":"HEADERS_TOO_LARGE"/)
        // The gateway's own error path: the code header, as on every answer it makes itself.
        assert.equal(answer.code, 'HEADERS_TOO_LARGE')
      }
      assert.equal(backend.hits, hits)
    } finally {
      session.close()
    }
  })

  test('an h2c request just under the limit, in many fields, is proxied on a settled session too', async () => {
    // 40 fields of 70 bytes: 2,800 bytes as HTTP/1.1 counts them, 4,080 with HPACK's 32 a field.
    const headers: http2.OutgoingHttpHeaders = {}
    for (let i = 0; i < 40; i++) headers[`x-field-${String(i).padStart(2, '0')}`] = 'v'.repeat(60)
    const session = http2.connect(`http://127.0.0.1:${h2cPort}`)
    try {
      for (let i = 0; i < 3; i++) assert.equal((await h2Get(session, headers)).status, 200)
      const near = await h2Get(session, { 'x-big': 'a'.repeat(3900) })
      assert.equal(near.status, 200)
      assert.equal(backend.last?.headers['x-big']?.length, 3900)
    } finally {
      session.close()
    }
  })

  test('a TLS h2 request over the default 16kb gets 431 and is not proxied', async () => {
    const hits = backend.hits
    const session = http2.connect(`https://127.0.0.1:${tlsPort}`, { ca: ca.certPem, servername: 'gw.test' })
    try {
      for (let i = 0; i < 2; i++) {
        const answer = await h2Get(session, { 'x-big': 'a'.repeat(20_000) })
        assert.equal(answer.status, 431)
        assert.match(answer.body, /"code":"HEADERS_TOO_LARGE"/)
      }
      assert.equal((await h2Get(session, { 'x-big': 'a'.repeat(15_000) })).status, 200)
      assert.equal(backend.hits, hits + 1)
    } finally {
      session.close()
    }
  })

  test('a reload that raises the limit applies it to new HTTP/1.1 connections and to HTTP/2 requests', async () => {
    try {
      assert.equal((await h1Get(h2cPort, 8000)).status, 431)
      await apply('32kb')
      assert.equal((await h1Get(h2cPort, 8000)).status, 200)
      const session = http2.connect(`http://127.0.0.1:${h2cPort}`)
      try {
        // The test backend's own limit is Node's default 16 KiB.
        for (let i = 0; i < 2; i++) assert.equal((await h2Get(session, { 'x-big': 'a'.repeat(12_000) })).status, 200)
        assert.match((await h2Get(session, { 'x-big': 'a'.repeat(40_000) })).body, /"code":"HEADERS_TOO_LARGE"/)
      } finally {
        session.close()
      }
    } finally {
      await apply('4kb')
    }
  })

  test('a reload that lowers the limit applies it to new HTTP/1.1 connections and to HTTP/2 requests', async () => {
    try {
      assert.equal(await h1TlsGet(tlsPort, ca.certPem, 8000), 200)
      const hits = backend.hits
      await apply('4kb', '4kb')
      assert.equal(await h1TlsGet(tlsPort, ca.certPem, 8000), 431)
      const session = http2.connect(`https://127.0.0.1:${tlsPort}`, { ca: ca.certPem, servername: 'gw.test' })
      try {
        assert.equal((await h2Get(session, { 'x-big': 'a'.repeat(8000) })).status, 431)
      } finally {
        session.close()
      }
      assert.equal(backend.hits, hits)
    } finally {
      await apply('4kb')
    }
  })
})

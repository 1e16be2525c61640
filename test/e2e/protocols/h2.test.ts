// HTTP/2 at the front: h2 by ALPN with HTTP/1.1 fallback on one TLS port, h2c by prior
// knowledge beside HTTP/1.1 on one plain port, `Upgrade: h2c` served as HTTP/1.1 and never
// forwarded, stream limits, rapid-reset protection, load with h2load, and h2 <-> h1 translation
// both ways (h2 clients to h1 backends, h1 clients to h2 backends).
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import http2 from 'node:http2'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import {
  createTestCa,
  freePort,
  type GatewayProcess,
  rawRequest,
  startBackend,
  startGateway,
  type TestBackend,
  type TestCa,
} from '@fleetgate/testkit'

const run = promisify(execFile)

/** One request over an HTTP/2 session; resolves with status, headers and body. */
function h2Request(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body?: Buffer,
): Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined })
    const chunks: Buffer[] = []
    let head: http2.IncomingHttpHeaders = {}
    stream.on('response', (h) => {
      head = h
    })
    stream.on('data', (c: Buffer) => chunks.push(c))
    stream.on('end', () => resolve({ status: Number(head[':status']), headers: head, body: Buffer.concat(chunks) }))
    stream.on('error', reject)
    if (body !== undefined) stream.end(body)
  })
}

describe('HTTP/2 front end', () => {
  let backend: TestBackend
  let h2Backend: http2.Http2Server
  let h2BackendPort: number
  let gateway: GatewayProcess
  let ca: TestCa
  let tlsPort: number
  let h2cPort: number
  let plainPort: number
  let limitedPort: number

  before(async () => {
    backend = await startBackend('h1', (req, res, body) => {
      res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/'])
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, bytes: body.length, version: req.httpVersion }))
    })
    h2Backend = http2.createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        res.setHeader('content-type', 'application/json')
        res.end(JSON.stringify({ version: req.httpVersion, method: req.method, path: req.url, bytes: Buffer.concat(chunks).length }))
      })
    })
    await new Promise<void>((resolve) => h2Backend.listen(0, '127.0.0.1', resolve))
    h2BackendPort = (h2Backend.address() as { port: number }).port
    ;[tlsPort, h2cPort, plainPort, limitedPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()])
    ca = createTestCa()
    const cert = ca.issue({ dns: ['h2.test'], ips: ['127.0.0.1'] })
    gateway = await startGateway(`
[upstreams.h1]
addrs = ["${backend.addr}"]

[upstreams.h2]
addrs = ["127.0.0.1:${h2BackendPort}"]
alpn = "h2"

[locations.h1]
upstream = "h1"
path = "/"

[locations.to_h2]
upstream = "h2"
path = "/h2/"

[servers.tls]
addr = "127.0.0.1:${tlsPort}"
tls_cert = "${cert.certPath}"
tls_key = "${cert.keyPath}"
enable_http2 = true
locations = ["h1", "to_h2"]

[servers.h2c]
addr = "127.0.0.1:${h2cPort}"
h2c = true
locations = ["h1", "to_h2"]

[servers.plain]
addr = "127.0.0.1:${plainPort}"
locations = ["h1", "to_h2"]

[servers.limited]
addr = "127.0.0.1:${limitedPort}"
h2c = true
h2_max_concurrent_streams = 5
h2_max_resets_per_second = 20
locations = ["h1"]
`)
  })

  after(async () => {
    await gateway?.stop()
    await backend?.close()
    await new Promise((resolve) => h2Backend?.close(resolve))
    ca?.cleanup()
  })

  test('a TLS port offers h2 by ALPN and still serves HTTP/1.1 clients', async () => {
    const url = `https://h2.test:${tlsPort}/alpn`
    const resolve = ['--resolve', `h2.test:${tlsPort}:127.0.0.1`, '--cacert', ca.certPath, '-s', '-o', '/dev/null', '-w', '%{http_version}']
    assert.equal((await run('curl', ['--http2', ...resolve, url])).stdout, '2')
    assert.equal((await run('curl', ['--http1.1', ...resolve, url])).stdout, '1.1')
  })

  test('an h2 client reaches an HTTP/1.1 backend with headers, body and X-Forwarded-Proto https', async () => {
    const session = http2.connect(`https://127.0.0.1:${tlsPort}`, { ca: ca.certPem, servername: 'h2.test' })
    try {
      const body = Buffer.alloc(3 * 1024 * 1024, 7)
      const res = await h2Request(session, { ':method': 'POST', ':path': '/upload?x=1', 'x-custom': 'yes' }, body)
      assert.equal(res.status, 200)
      const seen = JSON.parse(res.body.toString()) as { url: string; bytes: number; version: string; headers: Record<string, string> }
      assert.equal(seen.url, '/upload?x=1')
      assert.equal(seen.bytes, body.length, 'the whole streamed h2 body reached the backend')
      assert.equal(seen.version, '1.1')
      assert.equal(seen.headers['x-custom'], 'yes')
      assert.equal(seen.headers.host, `h2.test:${tlsPort}`, ':authority became Host')
      assert.equal(seen.headers['x-forwarded-proto'], 'https')
      assert.ok(!Object.keys(seen.headers).some((k) => k.startsWith(':')), 'no pseudo-header leaked upstream')
      assert.deepEqual(res.headers['set-cookie'], ['a=1; Path=/', 'b=2; Path=/'], 'each Set-Cookie kept apart')
    } finally {
      session.close()
    }
  })

  test('a plain port with h2c serves prior-knowledge HTTP/2 and HTTP/1.1 side by side', async () => {
    const url = `http://127.0.0.1:${h2cPort}/both`
    assert.equal((await run('curl', ['--http2-prior-knowledge', '-s', '-o', '/dev/null', '-w', '%{http_version}', url])).stdout, '2')
    assert.equal((await run('curl', ['--http1.1', '-s', '-o', '/dev/null', '-w', '%{http_version}', url])).stdout, '1.1')
  })

  test('a plain port without h2c refuses the HTTP/2 preface instead of misreading it', async () => {
    const out = await run('curl', [
      '--http2-prior-knowledge',
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      `http://127.0.0.1:${plainPort}/`,
    ]).catch((err: { stdout: string }) => err)
    assert.notEqual(out.stdout, '200')
  })

  test('an `Upgrade: h2c` request is answered in HTTP/1.1 and the upgrade never reaches the backend', async () => {
    const res = await rawRequest(
      h2cPort,
      'GET /upgrade HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n',
    )
    assert.equal(res.status, 200)
    const seen = JSON.parse(res.body.toString()) as { headers: Record<string, string> }
    assert.equal(seen.headers.upgrade, undefined)
    assert.equal(seen.headers['http2-settings'], undefined)
    assert.ok(!/upgrade/i.test(seen.headers.connection ?? ''), `connection: ${seen.headers.connection}`)
  })

  test('an HTTP/1.1 client reaches an h2 backend, and an h2 client too', async () => {
    const viaH1 = await fetch(`http://127.0.0.1:${plainPort}/h2/path?q=1`, { method: 'POST', body: 'hello' })
    assert.equal(viaH1.status, 200)
    assert.deepEqual(await viaH1.json(), { version: '2.0', method: 'POST', path: '/h2/path?q=1', bytes: 5 })
    const session = http2.connect(`http://127.0.0.1:${h2cPort}`)
    try {
      const res = await h2Request(session, { ':method': 'PUT', ':path': '/h2/x' }, Buffer.from('abc'))
      assert.deepEqual(JSON.parse(res.body.toString()), { version: '2.0', method: 'PUT', path: '/h2/x', bytes: 3 })
    } finally {
      session.close()
    }
  })

  test('the server announces its stream limit and refuses streams past it', async () => {
    const session = http2.connect(`http://127.0.0.1:${limitedPort}`)
    try {
      await new Promise<void>((resolve) => session.once('remoteSettings', () => resolve()))
      assert.equal(session.remoteSettings.maxConcurrentStreams, 5)
    } finally {
      session.close()
    }
  })

  test('a client resetting streams faster than allowed loses its connection; others are served', async () => {
    const session = http2.connect(`http://127.0.0.1:${limitedPort}`)
    session.on('error', () => {})
    const goaway = new Promise<number>((resolve) => session.once('goaway', (code: number) => resolve(code)))
    const closed = new Promise<void>((resolve) => session.once('close', () => resolve()))
    await new Promise<void>((resolve) => session.once('remoteSettings', () => resolve()))
    for (let i = 0; i < 200 && !session.destroyed && !session.closed; i++) {
      const stream = session.request({ ':method': 'POST', ':path': `/reset${i}` }, { endStream: false })
      stream.on('error', () => {})
      stream.close(http2.constants.NGHTTP2_CANCEL)
      // ~500 resets a second, far above the limit of 20, yet slow enough for the gateway to see
      // each one. A client that outruns the gateway's event loop gets its streams refused by
      // Node's own limit (maxSessionRejectedStreams), which ends the session with INTERNAL_ERROR
      // before the gateway's reset count can say why.
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
    const code = await Promise.race([goaway, closed.then(() => -1)])
    assert.equal(code, http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, 'the gateway says why it closes the connection')
    await closed
    const fresh = await fetch(`http://127.0.0.1:${limitedPort}/after`)
    assert.equal(fresh.status, 200, 'the gateway still serves')
  })

  test('h2load: 2000 requests over 4 connections with 20 streams each all succeed', async () => {
    const { stdout } = await run('h2load', ['-n', '2000', '-c', '4', '-m', '20', `http://127.0.0.1:${h2cPort}/load`], { timeout: 60_000 })
    const done = /requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed, 0 errored/.test(stdout)
    assert.ok(done, stdout)
    assert.match(stdout, /status codes: 2000 2xx/)
  })
})

describe('HTTP/1.1 CONNECT', () => {
  let gateway: GatewayProcess
  let port: number
  before(async () => {
    port = await freePort()
    gateway = await startGateway(`
[locations.all]
path = "/"

[servers.main]
addr = "127.0.0.1:${port}"
locations = ["all"]
`)
  })
  after(async () => {
    await gateway?.stop()
  })

  test('a CONNECT tunnel request gets 405 METHOD_NOT_ALLOWED, and the gateway keeps serving', async () => {
    const res = await rawRequest(port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n')
    assert.equal(res.status, 405)
    assert.match(res.body.toString(), /METHOD_NOT_ALLOWED/)
    const after = await fetch(`http://127.0.0.1:${port}/x`)
    await after.arrayBuffer()
    assert.equal(after.status, 502, 'the next request is served (a location without upstream answers 502)')
  })
})

// gRPC-web through a `grpc_web = true` location to a @grpc/grpc-js server: binary and text
// (base64) framing checked byte by byte with undici, over HTTP/1.1 and h2c, streaming both
// ways, trailers (and trailers-only errors) as the final 0x80 frame, the gateway's own errors
// as gRPC-web errors, CORS preflights, and the npm `grpc-web` client in both of its modes.
import assert from 'node:assert/strict'
import { connect as h2connect } from 'node:http2'
import { createRequire } from 'node:module'
import { Readable } from 'node:stream'
import { after, before, describe, test } from 'node:test'
import { freePort, type GatewayProcess, refusedPort, startGateway } from '@fleetgate/testkit'
import * as grpcWeb from 'grpc-web'
import { request } from 'undici'
import { type RawGrpcServer, startRawGrpcServer } from './raw-grpc-server.ts'

const ORIGIN = 'https://app.test'
/** XMLHttpRequest for Node (the grpc-web client needs one); CommonJS without types. */
const XHR: unknown = createRequire(import.meta.url)('xhr2')

/** One length-prefixed message frame (flag 0). */
function frame(message: string | Buffer): Buffer {
  const payload = typeof message === 'string' ? Buffer.from(message) : message
  const head = Buffer.alloc(5)
  head.writeUInt32BE(payload.length, 1)
  return Buffer.concat([head, payload])
}

interface Frames {
  messages: string[]
  trailers: Record<string, string>
}

/** Splits a gRPC-web body into its message frames and trailer frame; fails on anything malformed. */
function parseFrames(body: Buffer): Frames {
  const out: Frames = { messages: [], trailers: {} }
  let at = 0
  let sawTrailers = false
  while (at < body.length) {
    assert.ok(body.length - at >= 5, 'truncated frame header')
    const flag = body[at] as number
    const length = body.readUInt32BE(at + 1)
    const payload = body.subarray(at + 5, at + 5 + length)
    assert.equal(payload.length, length, 'truncated frame')
    assert.ok(!sawTrailers, 'nothing may follow the trailer frame')
    if (flag === 0x80) {
      sawTrailers = true
      for (const line of payload.toString('latin1').split('\r\n')) {
        if (line === '') continue
        const colon = line.indexOf(':')
        out.trailers[line.slice(0, colon)] = line.slice(colon + 1).trim()
      }
    } else {
      assert.equal(flag, 0, 'uncompressed message frame')
      out.messages.push(payload.toString('utf8'))
    }
    at += 5 + length
  }
  assert.ok(sawTrailers, 'the body ends with a trailer frame')
  return out
}

/**
 * Decodes a grpc-web-text body: base64 runs, each padded on its own (the spec allows padding
 * mid-body); a run may only end at a padded quad or at the end of the body.
 */
function decodeText(body: string): Buffer {
  assert.match(body, /^(?:[A-Za-z0-9+/=]{4})*$/, 'the text response is whole base64 quads')
  const runs = body.match(/(?:[A-Za-z0-9+/]{4})*?(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|(?:[A-Za-z0-9+/]{4})$)/g) ?? []
  assert.equal(runs.join(''), body, 'padding only ends quads')
  return Buffer.concat(runs.map((run) => Buffer.from(run, 'base64')))
}

describe('gRPC-web through the gateway', () => {
  let server: RawGrpcServer
  let doomed: RawGrpcServer
  let gateway: GatewayProcess
  let port: number
  let base: string

  before(async () => {
    server = await startRawGrpcServer('web')
    doomed = await startRawGrpcServer('doomed')
    const [p, dead] = await Promise.all([freePort(), refusedPort()])
    port = p
    base = `http://127.0.0.1:${port}`
    gateway = await startGateway(`
[upstreams.raw]
addrs = ["127.0.0.1:${server.port}"]
alpn = "h2"

[upstreams.dead]
addrs = ["127.0.0.1:${dead}"]
alpn = "h2"
connection_timeout = "1s"

[locations.web]
upstream = "raw"
path = "/fixture.Raw/"
grpc_web = true
plugins = ["web_cors"]

[locations.dead]
upstream = "dead"
path = "/dead.Raw/"
grpc_web = true

[upstreams.doomed]
addrs = ["127.0.0.1:${doomed.port}"]
alpn = "h2"

[locations.doomed]
upstream = "doomed"
path = "/doomed/"
rewrite = "/"
grpc_web = true

[plugins.web_cors]
type = "cors"
allow_origins = ["${ORIGIN}"]
allow_methods = ["POST"]
expose_headers = ["grpc-status", "grpc-message", "x-served-by"]

[servers.web]
addr = "127.0.0.1:${port}"
h2c = true
locations = ["web", "dead", "doomed"]
`)
  })

  after(async () => {
    await gateway?.stop()
    await server?.stop()
    await doomed?.stop()
  })

  test('binary mode: unary call, response frame and trailer frame, over HTTP/1.1', async () => {
    const res = await request(`${base}/fixture.Raw/Unary`, {
      method: 'POST',
      headers: { 'content-type': 'application/grpc-web+proto', 'x-grpc-web': '1', 'x-user-agent': 'grpc-web-test' },
      body: frame('hello'),
    })
    assert.equal(res.statusCode, 200)
    assert.equal(res.headers['content-type'], 'application/grpc-web+proto')
    assert.equal(res.headers['x-served-by'], 'web')
    assert.equal(res.headers['grpc-status'], undefined, 'the status travels in the body')
    const body = Buffer.from(await res.body.arrayBuffer())
    const frames = parseFrames(body)
    assert.deepEqual(frames.messages, ['echo:hello'])
    assert.equal(frames.trailers['grpc-status'], '0')
    assert.equal(frames.trailers['x-trailer'], 'done')
    assert.deepEqual(body.subarray(0, 15), frame('echo:hello'), 'the message frame is relayed byte for byte')
    const seen = server.seen.at(-1)
    assert.equal(seen?.method, 'Unary')
    assert.equal(seen?.metadata['x-user-agent'], 'grpc-web-test', 'client metadata reaches the server')
  })

  test('text mode: base64 request and response, decoded byte for byte', async () => {
    const res = await request(`${base}/fixture.Raw/Unary`, {
      method: 'POST',
      headers: { 'content-type': 'application/grpc-web-text', accept: 'application/grpc-web-text' },
      body: frame('texte ✓').toString('base64'),
    })
    assert.equal(res.statusCode, 200)
    assert.equal(res.headers['content-type'], 'application/grpc-web-text')
    const text = await res.body.text()
    assert.ok(text.startsWith(frame('echo:texte ✓').toString('base64')), 'the message is its own padded base64 run, byte for byte')
    const decoded = decodeText(text)
    const frames = parseFrames(decoded)
    assert.deepEqual(frames.messages, ['echo:texte ✓'])
    assert.equal(frames.trailers['grpc-status'], '0')
    const block = decoded.subarray(decoded.indexOf(0x80, frame('echo:texte ✓').length))
    assert.equal(block.readUInt32BE(1), block.length - 5, 'the trailer frame length covers its block exactly')
  })

  test('text mode: chunked base64 with padding mid-body, server stream relayed as it is produced', async () => {
    // Base64 runs padded one by one, sent as separate chunks (as a client encoding per write does).
    const whole = frame('tick 3 hold')
    const pieces = [whole.subarray(0, 4), whole.subarray(4, 9), whole.subarray(9)].map((b) => b.toString('base64'))
    assert.ok(
      pieces.slice(0, -1).some((p) => p.endsWith('=')),
      'the fixture pads mid-body',
    )
    const res = await request(`${base}/fixture.Raw/Stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/grpc-web-text+proto' },
      body: Readable.from(pieces.map((p) => Buffer.from(p))),
    })
    assert.equal(res.statusCode, 200)
    assert.equal(res.headers['content-type'], 'application/grpc-web-text+proto')
    // The server holds the stream after its first message: that message must already be here,
    // whole and decodable, before the server is released.
    const chunks = res.body[Symbol.asyncIterator]()
    let text = ''
    while (!text.endsWith('=') || !decodeText(text).includes(Buffer.from('tick 0'))) {
      const next = await chunks.next()
      assert.ok(!next.done, 'the body ended before the first message was seen')
      text += (next.value as Buffer).toString('latin1')
    }
    assert.deepEqual(decodeText(text), frame('tick 0'), 'exactly the first message, padded at its end')
    server.release()
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) text += (next.value as Buffer).toString('latin1')
    const frames = parseFrames(decodeText(text))
    assert.deepEqual(frames.messages, ['tick 0', 'tick 1', 'tick 2'])
    assert.equal(frames.trailers['grpc-status'], '0')
  })

  test('an error (trailers-only upstream answer) with a non-ASCII message ends in the trailer frame', async () => {
    const message = 'données invalides ✗ 名前'
    const res = await request(`${base}/fixture.Raw/Fail`, {
      method: 'POST',
      headers: { 'content-type': 'application/grpc-web-text' },
      body: frame(`3 ${message}`).toString('base64'),
    })
    assert.equal(res.statusCode, 200)
    assert.equal(res.headers['grpc-status'], undefined)
    const frames = parseFrames(decodeText(await res.body.text()))
    assert.deepEqual(frames.messages, [])
    assert.equal(frames.trailers['grpc-status'], '3')
    assert.equal(decodeURIComponent(frames.trailers['grpc-message'] as string), message)
  })

  test('gRPC-web over h2c: the same translation on an HTTP/2 stream', async () => {
    const session = h2connect(base)
    try {
      const stream = session.request({
        ':method': 'POST',
        ':path': '/fixture.Raw/Unary',
        'content-type': 'application/grpc-web+proto',
      })
      stream.end(frame('over h2'))
      const [headers, body] = await Promise.all([
        new Promise<Record<string, unknown>>((resolve) => stream.once('response', resolve)),
        (async () => {
          const parts: Buffer[] = []
          for await (const c of stream) parts.push(c as Buffer)
          return Buffer.concat(parts)
        })(),
      ])
      assert.equal(headers[':status'], 200)
      assert.equal(headers['content-type'], 'application/grpc-web+proto')
      const frames = parseFrames(body)
      assert.deepEqual(frames.messages, ['echo:over h2'])
      assert.equal(frames.trailers['grpc-status'], '0')
    } finally {
      session.close()
    }
  })

  test('the gateway answers gRPC-web errors itself: no backend, no route, bad base64', async () => {
    const call = async (path: string, type: string, body: string | Buffer) => {
      const res = await request(`${base}${path}`, { method: 'POST', headers: { 'content-type': type }, body })
      const raw = Buffer.from(await res.body.arrayBuffer())
      return { res, frames: parseFrames(type.includes('text') ? decodeText(raw.toString('latin1')) : raw) }
    }
    const dead = await call('/dead.Raw/Unary', 'application/grpc-web-text', frame('x').toString('base64'))
    assert.equal(dead.res.statusCode, 200)
    assert.equal(dead.res.headers['content-type'], 'application/grpc-web-text')
    assert.equal(dead.res.headers['x-fleetgate-error'], 'UPSTREAM_CONNECT')
    assert.equal(dead.frames.trailers['grpc-status'], '14')

    const none = await call('/other.Svc/M', 'application/grpc-web+proto', frame('x'))
    assert.equal(none.res.statusCode, 200)
    assert.equal(none.frames.trailers['grpc-status'], '12')
    assert.match(none.frames.trailers['grpc-message'] as string, /NO_ROUTE/)

    const bad = await call('/fixture.Raw/Unary', 'application/grpc-web-text', 'AAAA*not base64*')
    assert.equal(bad.res.statusCode, 200)
    assert.equal(bad.res.headers['x-fleetgate-error'], 'BAD_REQUEST')
    assert.equal(bad.frames.trailers['grpc-status'], '13')
  })

  test('an upstream that dies between two messages still ends the body with a status frame', async () => {
    const res = await request(`${base}/doomed/fixture.Raw/Stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/grpc-web-text' },
      body: frame('last 3 hold').toString('base64'),
    })
    assert.equal(res.statusCode, 200)
    const chunks = res.body[Symbol.asyncIterator]()
    let text = ''
    while (!text.endsWith('=')) {
      const next = await chunks.next()
      assert.ok(!next.done, 'the first message came')
      text += (next.value as Buffer).toString('latin1')
    }
    // The held stream's backend goes away: the gateway loses the upstream mid-response.
    doomed.kill()
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) text += (next.value as Buffer).toString('latin1')
    const frames = parseFrames(decodeText(text))
    assert.deepEqual(frames.messages, ['last 0'])
    assert.equal(frames.trailers['grpc-status'], '14', JSON.stringify(frames.trailers))
    assert.match(frames.trailers['grpc-message'] as string, /UPSTREAM_RESET/)
  })

  test('CORS: preflight allows the gRPC-web headers, responses expose grpc-status', async () => {
    const pre = await request(`${base}/fixture.Raw/Unary`, {
      method: 'OPTIONS',
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-grpc-web,x-user-agent,grpc-timeout',
      },
    })
    await pre.body.dump()
    assert.equal(pre.statusCode, 204)
    assert.equal(pre.headers['access-control-allow-origin'], ORIGIN)
    assert.equal(pre.headers['access-control-allow-headers'], 'content-type,x-grpc-web,x-user-agent,grpc-timeout')
    const res = await request(`${base}/fixture.Raw/Unary`, {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/grpc-web+proto', 'x-grpc-web': '1', 'grpc-timeout': '5S' },
      body: frame('cors'),
    })
    assert.equal(res.headers['access-control-allow-origin'], ORIGIN)
    assert.equal(res.headers['access-control-expose-headers'], 'grpc-status, grpc-message, x-served-by')
    assert.deepEqual(parseFrames(Buffer.from(await res.body.arrayBuffer())).messages, ['echo:cors'])
    const refused = await request(`${base}/fixture.Raw/Unary`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.test', 'access-control-request-method': 'POST' },
    })
    await refused.body.dump()
    assert.equal(refused.statusCode, 403)
  })
})

describe('the npm grpc-web client through the gateway', () => {
  let server: RawGrpcServer
  let gateway: GatewayProcess
  let base: string

  const bytes = (s: string) => new Uint8Array(Buffer.from(s))
  const method = (name: string, kind: 'unary' | 'server_streaming') =>
    new grpcWeb.MethodDescriptor<Uint8Array, string>(
      `/fixture.Raw/${name}`,
      kind,
      Uint8Array as never,
      String as never,
      (req: Uint8Array) => req,
      (res: Uint8Array) => Buffer.from(res).toString('utf8'),
    )

  before(async () => {
    // The client runs on XMLHttpRequest, which xhr2 provides in Node.
    ;(globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest = XHR
    server = await startRawGrpcServer('npm')
    const port = await freePort()
    base = `http://127.0.0.1:${port}`
    gateway = await startGateway(`
[upstreams.raw]
addrs = ["127.0.0.1:${server.port}"]
alpn = "h2"

[locations.web]
upstream = "raw"
path = "/fixture.Raw/"
grpc_web = true

[servers.web]
addr = "127.0.0.1:${port}"
locations = ["web"]
`)
  })

  after(async () => {
    await gateway?.stop()
    await server?.stop()
  })

  for (const format of ['text', 'binary'] as const) {
    test(`${format} mode: unary call and an error with a non-ASCII message`, async () => {
      const client = new grpcWeb.GrpcWebClientBase({ format })
      const reply = await client.unaryCall(`${base}/fixture.Raw/Unary`, bytes(`hi ${format}`), {}, method('Unary', 'unary'))
      assert.equal(reply, `echo:hi ${format}`)
      const err = await client.unaryCall(`${base}/fixture.Raw/Fail`, bytes('5 introuvable ✗'), {}, method('Fail', 'unary')).then(
        () => assert.fail('expected an error'),
        (e: grpcWeb.RpcError) => e,
      )
      assert.equal(err.code, grpcWeb.StatusCode.NOT_FOUND)
      assert.equal(err.message, 'introuvable ✗')
    })
  }

  test('text mode: a server stream delivers every message, then the status', async () => {
    const client = new grpcWeb.GrpcWebClientBase({ format: 'text' })
    const got: string[] = []
    const status = await new Promise<grpcWeb.Status>((resolve, reject) => {
      const stream = client.serverStreaming(`${base}/fixture.Raw/Stream`, bytes('n 5'), {}, method('Stream', 'server_streaming'))
      stream.on('data', (m) => got.push(m))
      stream.on('status', resolve)
      stream.on('error', reject)
    })
    assert.equal(status.code, grpcWeb.StatusCode.OK)
    assert.deepEqual(got, ['n 0', 'n 1', 'n 2', 'n 3', 'n 4'])
  })
})

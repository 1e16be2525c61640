// WebSocket through the gateway with `ws` on both sides: HTTP/1.1 Upgrade (echo of text and
// binary, 16 MiB and fragmented messages, pings, close codes both ways, auth before the
// upgrade, balancing, retries, refusals, idle timeout, metrics) and RFC 8441 extended CONNECT
// from a node:http2 client over h2c, with frames written and parsed by hand.
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http'
import { type ClientHttp2Session, createServer as createH2Server, type Http2Server, connect as h2connect } from 'node:http2'
import { createServer as createNetServer, type Server as NetServer, type Socket as NetSocket, connect as netConnect } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createTestCa, freePort, type GatewayProcess, refusedPort, startGateway, type TestCa, waitFor } from '@fleetgate/testkit'
import { type ClientOptions, type RawData, WebSocket, WebSocketServer } from 'ws'
import { closePayload, encodeFrame, frameReader, OP_BINARY, OP_CLOSE, OP_TEXT } from './websocket-frames.ts'

/** A `ws` backend that echoes, answers a few commands, and records what it saw. */
interface WsBackend {
  readonly name: string
  readonly port: number
  /** Upgrade requests received (headers). */
  readonly handshakes: IncomingHttpHeaders[]
  /** Close codes and reasons the backend received from clients. */
  readonly closes: Array<{ code: number; reason: string }>
  /** Pong payloads the backend received. */
  readonly pongs: string[]
  close(): Promise<void>
}

async function startWsBackend(name: string): Promise<WsBackend> {
  const server: Server = createServer((_req, res) => res.writeHead(426).end('websocket only'))
  const wss = new WebSocketServer({
    server,
    maxPayload: 64 * 1024 * 1024,
    perMessageDeflate: true,
    verifyClient: (info: { req: IncomingMessage }, cb: (ok: boolean, code?: number, message?: string) => void) => {
      if (info.req.url?.includes('refuse')) cb(false, 403, 'Forbidden')
      else cb(true)
    },
  })
  const backend: WsBackend = {
    name,
    port: 0,
    handshakes: [],
    closes: [],
    pongs: [],
    close: () =>
      new Promise((resolve) => {
        for (const c of wss.clients) c.terminate()
        wss.close()
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
  wss.on('connection', (ws, req) => {
    backend.handshakes.push(req.headers)
    ws.on('pong', (data) => backend.pongs.push(data.toString()))
    ws.on('close', (code, reason) => backend.closes.push({ code, reason: reason.toString() }))
    ws.on('message', (data: RawData, isBinary) => {
      const text = isBinary ? '' : data.toString()
      if (text === 'whoami') ws.send(name)
      else if (text.startsWith('close:')) {
        const [, code, reason] = text.split(':')
        ws.close(Number(code), reason)
      } else if (text === 'ping-me') ws.ping('from-backend')
      else if (text === 'fragments') {
        ws.send('one-', { fin: false })
        ws.send('two-', { fin: false })
        ws.send('three', { fin: true })
      } else ws.send(data as Buffer, { binary: isBinary })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return Object.assign(backend, { port: (server.address() as { port: number }).port })
}

/**
 * An HTTP/2 (h2c) WebSocket backend speaking RFC 8441 by hand: it answers each text frame
 * with "h2:" + the text; with `extendedConnect` false it does not offer the protocol at all.
 */
async function startH2WsBackend(extendedConnect: boolean): Promise<{ port: number; close(): Promise<void> }> {
  const server: Http2Server = createH2Server({ settings: { enableConnectProtocol: extendedConnect } }, (_req, res) =>
    res.writeHead(404).end(),
  )
  server.on('connect', (req, res) => {
    if (req.headers[':protocol'] !== 'websocket') return res.writeHead(400).end()
    res.writeHead(200)
    res.flushHeaders()
    const frames = frameReader(req)
    const loop = async () => {
      for (;;) {
        const frame = await frames.next(60_000)
        if (frame.opcode === OP_CLOSE) {
          res.stream.end(encodeFrame(OP_CLOSE, frame.payload, { mask: false }))
          return
        }
        res.stream.write(encodeFrame(OP_TEXT, Buffer.from(`h2:${frame.payload.toString()}`), { mask: false }))
      }
    }
    loop().catch(() => res.stream.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

/** Opens a client and waits for it to be open, or returns the refusal's status and headers. */
async function open(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  const ws = new WebSocket(url, { headers, maxPayload: 64 * 1024 * 1024 })
  await once(ws, 'open')
  return ws
}

function refusal(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  const ws = new WebSocket(url, { headers })
  return new Promise((resolve, reject) => {
    ws.once('open', () => reject(new Error('the handshake was accepted')))
    ws.once('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (c: Buffer) => {
        body += c.toString()
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    ws.once('error', (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err)
    })
  })
}

const nextMessage = (ws: WebSocket) => once(ws, 'message') as Promise<[RawData, boolean]>

describe('WebSocket through the gateway', () => {
  let a: WsBackend
  let b: WsBackend
  let gateway: GatewayProcess
  let port: number
  let deadPort: number
  let tlsPort: number
  let ca: TestCa
  let base: string
  /** Accepts connections and never answers: handshakes to it stay pending. */
  let silent: { port: number; server: NetServer; sockets: NetSocket[] }

  before(async () => {
    ;[a, b] = await Promise.all([startWsBackend('a'), startWsBackend('b')])
    const sockets: NetSocket[] = []
    const silentServer = createNetServer((s) => {
      sockets.push(s)
      s.on('error', () => {})
      s.resume()
    })
    await new Promise<void>((resolve) => silentServer.listen(0, '127.0.0.1', resolve))
    silent = { port: (silentServer.address() as { port: number }).port, server: silentServer, sockets }
    ;[port, deadPort, tlsPort] = await Promise.all([freePort(), refusedPort(), freePort()])
    base = `ws://127.0.0.1:${port}`
    ca = createTestCa()
    const cert = ca.issue({ dns: ['ws.test'] })
    gateway = await startGateway(`
[upstreams.ws]
addrs = ["127.0.0.1:${a.port}", "127.0.0.1:${b.port}"]
algorithm = "round_robin"

[upstreams.only_a]
addrs = ["127.0.0.1:${a.port}"]

[upstreams.dead]
addrs = ["127.0.0.1:${deadPort}"]

[upstreams.silent]
addrs = ["127.0.0.1:${silent.port}"]

[upstreams.half_dead]
addrs = ["127.0.0.1:${deadPort}", "127.0.0.1:${a.port}"]
algorithm = "round_robin"

[plugins.key]
type = "key_auth"
consumers = [{ name = "alice", key = "k1" }]

[locations.ws]
upstream = "ws"
path = "/ws"

[locations.a]
upstream = "only_a"
path = "/a"

[locations.metered]
upstream = "only_a"
path = "/metered"

[locations.secure]
upstream = "only_a"
path = "/secure"
plugins = ["key"]

[locations.dead]
upstream = "dead"
path = "/dead"

[locations.half]
upstream = "half_dead"
path = "/half"

[locations.silent]
upstream = "silent"
path = "/silent"

[locations.idle]
upstream = "only_a"
path = "/idle"
websocket_idle_timeout = "1s"

[servers.main]
addr = "127.0.0.1:${port}"
locations = ["ws", "a", "metered", "secure", "dead", "half", "idle", "silent"]
h2c = true
access_log = "{method} {path} {status} {upstream_addr}"
header_timeout = "1s"
request_timeout = "2s"
keepalive_timeout = "1s"

[servers.tls]
addr = "127.0.0.1:${tlsPort}"
tls_cert = "${cert.certPath}"
tls_key = "${cert.keyPath}"
enable_http2 = true
locations = ["a"]
`)
  })

  after(async () => {
    await gateway?.stop()
    await Promise.all([a?.close(), b?.close()])
    for (const s of silent?.sockets ?? []) s.destroy()
    silent?.server.close()
  })

  test('echoes text and binary messages with forwarding headers set', async () => {
    const ws = await open(`${base}/a/echo`)
    assert.match(ws.extensions, /permessage-deflate/, 'negotiated end to end')
    ws.send('hello')
    const [text, textIsBinary] = await nextMessage(ws)
    assert.equal(textIsBinary, false)
    assert.equal(text.toString(), 'hello')
    const bytes = randomBytes(1000)
    ws.send(bytes)
    const [bin, binIsBinary] = await nextMessage(ws)
    assert.equal(binIsBinary, true)
    assert.deepEqual(bin, bytes)
    const seen = a.handshakes.at(-1) as IncomingHttpHeaders
    assert.equal(seen['x-forwarded-for'], '127.0.0.1')
    assert.equal(seen['x-forwarded-proto'], 'http')
    assert.equal(seen['sec-websocket-version'], '13')
    ws.close()
    await once(ws, 'close')
  })

  test('relays a 16 MiB message both ways intact', async () => {
    const ws = await open(`${base}/a/big`)
    const big = randomBytes(16 * 1024 * 1024)
    ws.send(big)
    const [echo] = await nextMessage(ws)
    assert.equal((echo as Buffer).length, big.length)
    assert.equal(
      createHash('sha256')
        .update(echo as Buffer)
        .digest('hex'),
      createHash('sha256').update(big).digest('hex'),
    )
    ws.close()
    await once(ws, 'close')
  })

  test('relays fragmented messages in both directions', async () => {
    const ws = await open(`${base}/a/frag`)
    ws.send('alpha-', { fin: false })
    ws.send('beta-', { fin: false })
    ws.send('gamma', { fin: true })
    assert.equal((await nextMessage(ws))[0].toString(), 'alpha-beta-gamma')
    ws.send('fragments')
    assert.equal((await nextMessage(ws))[0].toString(), 'one-two-three')
    ws.close()
    await once(ws, 'close')
  })

  test('passes pings and pongs both ways', async () => {
    const ws = await open(`${base}/a/ping`)
    ws.ping('from-client')
    const [pong] = (await once(ws, 'pong')) as [Buffer]
    assert.equal(pong.toString(), 'from-client')
    const clientPinged = once(ws, 'ping')
    ws.send('ping-me')
    const [ping] = (await clientPinged) as [Buffer]
    assert.equal(ping.toString(), 'from-backend')
    await waitFor('backend got the pong', () => a.pongs.includes('from-backend'), 3000)
    ws.close()
    await once(ws, 'close')
  })

  test('passes close codes and reasons from the backend to the client', async () => {
    const ws = await open(`${base}/a/close`)
    ws.send('close:4001:bye')
    const [code, reason] = (await once(ws, 'close')) as [number, Buffer]
    assert.equal(code, 4001)
    assert.equal(reason.toString(), 'bye')
  })

  test('passes close codes and reasons from the client to the backend', async () => {
    const ws = await open(`${base}/a/close`)
    ws.close(4002, 'client-bye')
    const [code] = (await once(ws, 'close')) as [number]
    assert.equal(code, 4002)
    await waitFor('backend saw the close', () => a.closes.some((c) => c.code === 4002 && c.reason === 'client-bye'), 3000)
  })

  test('runs auth plugins before the upgrade: no key gets 401 and the backend never sees it', async () => {
    const before = a.handshakes.length
    const refused = await refusal(`${base}/secure/chat`)
    assert.equal(refused.status, 401)
    assert.equal(a.handshakes.length, before)
    const wrong = await refusal(`${base}/secure/chat`, { 'x-api-key': 'nope' })
    assert.equal(wrong.status, 401)
    assert.equal(a.handshakes.length, before)
    const ws = await open(`${base}/secure/chat`, { 'x-api-key': 'k1' })
    assert.equal(a.handshakes.length, before + 1)
    assert.equal((a.handshakes.at(-1) as IncomingHttpHeaders)['x-consumer-name'], 'alice')
    ws.send('ok')
    assert.equal((await nextMessage(ws))[0].toString(), 'ok')
    ws.close()
    await once(ws, 'close')
  })

  test('balances connections across backends', async () => {
    const names: string[] = []
    for (let i = 0; i < 4; i++) {
      const ws = await open(`${base}/ws/who`)
      ws.send('whoami')
      names.push((await nextMessage(ws))[0].toString())
      ws.close()
      await once(ws, 'close')
    }
    assert.deepEqual(names.sort(), ['a', 'a', 'b', 'b'])
  })

  test('answers 502 on the socket when the only backend is down', async () => {
    const refused = await refusal(`${base}/dead/x`)
    assert.equal(refused.status, 502)
    assert.equal(refused.headers['x-fleetgate-error'], 'UPSTREAM_CONNECT')
  })

  test('retries a connect failure on another backend', async () => {
    for (let i = 0; i < 2; i++) {
      const ws = await open(`${base}/half/x`)
      ws.send('whoami')
      assert.equal((await nextMessage(ws))[0].toString(), 'a')
      ws.close()
      await once(ws, 'close')
    }
  })

  test('a client resetting during a pending handshake leaves the gateway serving', async () => {
    for (let i = 0; i < 3; i++) {
      const raw = netConnect(port, '127.0.0.1')
      await once(raw, 'connect')
      raw.write(
        'GET /silent/x HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      )
      await waitFor('the handshake reached the silent backend', () => silent.sockets.length > i, 3000)
      raw.resetAndDestroy()
    }
    await sleep(200)
    assert.equal(gateway.process.child.exitCode, null, 'the gateway is still running')
    const ws = await open(`${base}/a/after-reset`)
    ws.send('alive')
    assert.equal((await nextMessage(ws))[0].toString(), 'alive')
    ws.close()
    await once(ws, 'close')
    await waitFor(
      'the three pending upstream handshakes were aborted',
      () => {
        const asked = silent.sockets.filter((s) => s.bytesRead > 0)
        return asked.length === 3 && asked.every((s) => s.destroyed || s.readableEnded)
      },
      3000,
    )
  })

  test("relays the backend's refusal as a normal response", async () => {
    const refused = await refusal(`${base}/a/refuse`)
    assert.equal(refused.status, 403)
  })

  test('a busy tunnel outlives the header, request and keep-alive timeouts', async () => {
    const ws = await open(`${base}/a/long`)
    for (let i = 0; i < 7; i++) {
      await sleep(500)
      ws.send(`tick ${i}`)
      assert.equal((await nextMessage(ws))[0].toString(), `tick ${i}`)
    }
    assert.equal(ws.readyState, WebSocket.OPEN)
    ws.close()
    await once(ws, 'close')
  })

  test('closes a tunnel idle for websocket_idle_timeout, not one with traffic', async () => {
    const ws = await open(`${base}/idle/x`)
    const closed = once(ws, 'close')
    for (let i = 0; i < 5; i++) {
      await sleep(400)
      ws.ping()
    }
    assert.equal(ws.readyState, WebSocket.OPEN, 'pings every 400ms keep a 1s idle timeout away')
    const started = Date.now()
    const [code] = (await closed) as [number]
    assert.equal(code, 1006)
    const waited = Date.now() - started
    assert.ok(waited >= 700 && waited < 3000, `closed after ${waited}ms of silence`)
  })

  test('counts a tunnel in the request metrics once it ends', async () => {
    const ws = await open(`${base}/metered/x`)
    ws.send(randomBytes(5000))
    await nextMessage(ws)
    ws.close()
    await once(ws, 'close')
    await waitFor(
      'metered tunnel in /metrics',
      async () => {
        const text = await (await fetch(`${gateway.statusUrl}/metrics`)).text()
        const line = text.split('\n').find((l) => l.startsWith('fleetgate_http_requests_total{') && l.includes('location="metered"'))
        return line?.includes('status_class="1xx"') === true && line.endsWith(' 1')
      },
      5000,
    )
    const text = await (await fetch(`${gateway.statusUrl}/metrics`)).text()
    const bytes = text.split('\n').find((l) => l.startsWith('fleetgate_http_response_bytes_total{') && l.includes('location="metered"'))
    assert.ok(Number(bytes?.split(' ').at(-1)) >= 5000, `response bytes: ${bytes}`)
    await waitFor('access log line', () => gateway.process.output().includes(`GET /metered/x 101 127.0.0.1:${a.port}`), 3000)
  })

  test('upgrades over TLS (wss) on a listener that also offers h2', async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${tlsPort}/a/tls`, { ca: ca.certPem, servername: 'ws.test' } as ClientOptions)
    await once(ws, 'open')
    ws.send('secure hello')
    assert.equal((await nextMessage(ws))[0].toString(), 'secure hello')
    assert.equal((a.handshakes.at(-1) as IncomingHttpHeaders)['x-forwarded-proto'], 'https')
    ws.close(1000, 'done')
    await once(ws, 'close')
  })

  test('opens a WebSocket with extended CONNECT over TLS h2', async () => {
    const session = h2connect(`https://127.0.0.1:${tlsPort}`, { ca: ca.certPem, servername: 'ws.test' })
    try {
      await once(session, 'remoteSettings')
      const stream = session.request(
        {
          ':method': 'CONNECT',
          ':protocol': 'websocket',
          ':scheme': 'https',
          ':path': '/a/h2tls',
          ':authority': 'ws.test',
          'sec-websocket-version': '13',
        },
        { endStream: false },
      )
      const [head] = (await once(stream, 'response')) as [Record<string, string | number>]
      assert.equal(head[':status'], 200)
      const frames = frameReader(stream)
      stream.write(encodeFrame(OP_TEXT, Buffer.from('h2 over tls')))
      assert.equal((await frames.next()).payload.toString(), 'h2 over tls')
      assert.equal((a.handshakes.at(-1) as IncomingHttpHeaders)['x-forwarded-proto'], 'https')
      stream.close()
    } finally {
      session.close()
    }
  })

  describe('RFC 8441 over h2c', () => {
    let session: ClientHttp2Session

    before(async () => {
      session = h2connect(`http://127.0.0.1:${port}`)
      const [settings] = (await once(session, 'remoteSettings')) as [{ enableConnectProtocol?: boolean }]
      assert.equal(settings.enableConnectProtocol, true)
    })

    after(() => session?.close())

    const connectWs = (path: string, headers: Record<string, string> = {}) =>
      session.request(
        {
          ':method': 'CONNECT',
          ':protocol': 'websocket',
          ':scheme': 'http',
          ':path': path,
          ':authority': `127.0.0.1:${port}`,
          'sec-websocket-version': '13',
          ...headers,
        },
        { endStream: false },
      )

    test('opens a WebSocket with extended CONNECT and round-trips frames', async () => {
      const stream = connectWs('/a/h2')
      const [head] = (await once(stream, 'response')) as [Record<string, string | number>]
      assert.equal(head[':status'], 200)
      assert.equal(head['sec-websocket-accept'], undefined)
      const frames = frameReader(stream)
      stream.write(encodeFrame(OP_TEXT, Buffer.from('hello over h2')))
      const text = await frames.next()
      assert.equal(text.opcode, OP_TEXT)
      assert.equal(text.payload.toString(), 'hello over h2')
      const bytes = randomBytes(70_000)
      stream.write(encodeFrame(OP_BINARY, bytes))
      const bin = await frames.next()
      assert.equal(bin.opcode, OP_BINARY)
      assert.deepEqual(bin.payload, bytes)
      stream.write(encodeFrame(OP_CLOSE, closePayload(4003, 'h2-bye')))
      const close = await frames.next()
      assert.equal(close.opcode, OP_CLOSE)
      assert.equal(close.payload.readUInt16BE(0), 4003)
      await waitFor('backend saw the h2 close', () => a.closes.some((c) => c.code === 4003 && c.reason === 'h2-bye'), 3000)
      stream.end()
      await once(stream, 'close')
    })

    test('runs auth plugins on extended CONNECT', async () => {
      const before = a.handshakes.length
      const stream = connectWs('/secure/h2')
      const [head] = (await once(stream, 'response')) as [Record<string, string | number>]
      assert.equal(head[':status'], 401)
      stream.resume()
      await once(stream, 'close')
      assert.equal(a.handshakes.length, before)
    })

    test('refuses a plain CONNECT with 405', async () => {
      const stream = session.request({ ':method': 'CONNECT', ':authority': 'example.com:443' }, { endStream: false })
      const [head] = (await once(stream, 'response')) as [Record<string, string | number>]
      assert.equal(head[':status'], 405)
      stream.resume()
      stream.end()
      await once(stream, 'close')
    })
  })

  test('proxies an HTTP/1.1 client to an HTTP/2 backend over RFC 8441, and 502s one without it', async () => {
    const [h2, plain] = await Promise.all([startH2WsBackend(true), startH2WsBackend(false)])
    const ownPort = await freePort()
    const own = await startGateway(`
[upstreams.h2]
addrs = ["127.0.0.1:${h2.port}"]
alpn = "h2"

[upstreams.plain]
addrs = ["127.0.0.1:${plain.port}"]
alpn = "h2"

[locations.h2]
upstream = "h2"
path = "/h2"

[locations.plain]
upstream = "plain"
path = "/plain"

[servers.main]
addr = "127.0.0.1:${ownPort}"
locations = ["h2", "plain"]
`)
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${ownPort}/h2/chat`, { perMessageDeflate: false })
      await once(ws, 'open')
      ws.send('over h2')
      assert.equal((await nextMessage(ws))[0].toString(), 'h2:over h2')
      ws.close(4005, 'h2-end')
      const [code] = (await once(ws, 'close')) as [number]
      assert.equal(code, 4005)
      const refused = await refusal(`ws://127.0.0.1:${ownPort}/plain/chat`)
      assert.equal(refused.status, 502)
      assert.equal(refused.headers['x-fleetgate-error'], 'UPSTREAM_PROTOCOL')
    } finally {
      await own.stop()
      await Promise.all([h2.close(), plain.close()])
    }
  })

  test('shutdown lets an open tunnel run until grace_period, then closes it and exits 0', async () => {
    const ownPort = await freePort()
    const own = await startGateway(`
[basic]
grace_period = "1s"

[upstreams.a]
addrs = ["127.0.0.1:${a.port}"]

[locations.a]
upstream = "a"
path = "/"

[servers.main]
addr = "127.0.0.1:${ownPort}"
locations = ["a"]
h2c = true
`)
    try {
      const ws = await open(`ws://127.0.0.1:${ownPort}/shutdown`)
      const closed = once(ws, 'close')
      const exited = once(own.process.child, 'exit') as Promise<[number | null, string | null]>
      const signalled = performance.now()
      process.kill(own.process.child.pid as number, 'SIGTERM')
      await sleep(300)
      ws.send('still here')
      assert.equal((await nextMessage(ws))[0].toString(), 'still here', 'the tunnel works during the drain')
      const [code] = await exited
      await closed
      const elapsed = performance.now() - signalled
      assert.equal(code, 0)
      assert.ok(elapsed >= 800 && elapsed < 4000, `exited ${elapsed} ms after SIGTERM, grace_period is 1 s`)
    } finally {
      await own.stop()
    }
  })
})

// gRPC through the gateway with @grpc/grpc-js on both sides: every call kind, metadata and
// trailers (binary -bin ones too), deadlines and cancellation in both directions, errors with
// non-ASCII messages, balancing per call, and the gateway's own errors as gRPC statuses.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { createTestCa, freePort, type GatewayProcess, refusedPort, startGateway, type TestCa, waitFor } from '@fleetgate/testkit'
import * as grpc from '@grpc/grpc-js'
import { type EchoClient, type EchoServer, echoClient, startEchoServer } from './grpc-fixture.ts'

describe('gRPC through the gateway', () => {
  let a: EchoServer
  let b: EchoServer
  let gateway: GatewayProcess
  let h2cPort: number
  let tlsPort: number
  let deadPort: number
  let ca: TestCa
  let client: EchoClient

  before(async () => {
    ;[a, b] = await Promise.all([startEchoServer('a'), startEchoServer('b')])
    ;[h2cPort, tlsPort, deadPort] = await Promise.all([freePort(), freePort(), refusedPort()])
    ca = createTestCa()
    const cert = ca.issue({ dns: ['grpc.test'] })
    gateway = await startGateway(`
[upstreams.echo]
addrs = ["127.0.0.1:${a.port}", "127.0.0.1:${b.port}"]
alpn = "h2"
algorithm = "round_robin"
read_timeout = "10s"

[upstreams.dead]
addrs = ["127.0.0.1:${deadPort}"]
alpn = "h2"

[locations.echo]
upstream = "echo"
path = "/echo.Echo/"

[locations.dead]
upstream = "dead"
path = "/dead.Echo/"

[servers.h2c]
addr = "127.0.0.1:${h2cPort}"
h2c = true
locations = ["echo", "dead"]

[servers.tls]
addr = "127.0.0.1:${tlsPort}"
tls_cert = "${cert.certPath}"
tls_key = "${cert.keyPath}"
enable_http2 = true
locations = ["echo"]
`)
    client = echoClient(`127.0.0.1:${h2cPort}`, grpc.credentials.createInsecure())
  })

  after(async () => {
    client?.close()
    await gateway?.stop()
    await Promise.all([a?.stop(), b?.stop()])
    ca?.cleanup()
  })

  test('unary call with request metadata, response metadata and trailers, binary ones included', async () => {
    const md = new grpc.Metadata()
    md.set('x-request-tag', 'hello')
    md.set('x-blob-bin', Buffer.from([0, 1, 2, 255]))
    const { reply, headers, trailers } = await client.unaryFull({ text: 'ping', count: 1 }, md)
    assert.equal(reply.text, 'echo:ping')
    assert.deepEqual(reply.blob, Buffer.from([0, 1, 2, 255]), 'the -bin request metadata reached the server intact')
    assert.equal(reply.count, 1)
    assert.equal(headers.get('x-served-by').length, 1)
    assert.equal(trailers.get('x-trailer')[0], 'done')
    assert.deepEqual(trailers.get('x-trailer-bin')[0], Buffer.from([9, 8, 7, 0]))
    const seen = [...a.requests, ...b.requests].find((r) => r.text === 'ping')
    assert.equal(seen?.metadata['x-request-tag'], 'hello')
    assert.ok(seen?.metadata['x-forwarded-for'], 'the gateway added X-Forwarded-For')
  })

  test('server streaming delivers every message in order', async () => {
    const got = await client.serverStream({ text: 'tick', count: 20 })
    assert.deepEqual(
      got.map((m) => m.text),
      Array.from({ length: 20 }, (_, i) => `tick ${i}`),
    )
  })

  test('client streaming sums what the client sent', async () => {
    const reply = await client.clientStream(Array.from({ length: 50 }, (_, i) => ({ text: 'n', count: i })))
    assert.equal(reply.count, (49 * 50) / 2)
    assert.equal(reply.text, 'received 50')
  })

  test('bidi streaming is full duplex: each reply arrives before the next message is sent', async () => {
    const replies = await client.pingPong(['one', 'two', 'three', 'four'])
    assert.deepEqual(replies, ['echo:one', 'echo:two', 'echo:three', 'echo:four'])
  })

  test('a deadline reaches the server as grpc-timeout, and expiry cancels the server call', async () => {
    const before = a.cancelled + b.cancelled
    const started = Date.now()
    const err = await client.unary({ text: 'slow', count: 3000 }, { deadlineMs: 400 }).then(
      () => assert.fail('the call should have timed out'),
      (e: grpc.ServiceError) => e,
    )
    assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED)
    assert.ok(Date.now() - started < 2500, 'the client did not wait for the slow server')
    await waitFor('server saw the cancellation', () => a.cancelled + b.cancelled > before, 5000)
    const seen = [...a.requests, ...b.requests].find((r) => r.text === 'slow')
    assert.ok(seen?.deadlineMs !== undefined && seen.deadlineMs <= 400, `server deadline ${seen?.deadlineMs}`)
  })

  test('a client cancelling a server stream cancels the server side', async () => {
    const before = a.cancelled + b.cancelled
    const received = await client.cancelAfter({ text: 'endless', count: 1_000_000 }, 3)
    assert.equal(received, 3)
    await waitFor('server saw the cancellation', () => a.cancelled + b.cancelled > before, 5000)
  })

  test('an error status with a non-ASCII message reaches the client unchanged', async () => {
    const err = await client.unary({ text: 'fail', count: grpc.status.INVALID_ARGUMENT }).then(
      () => assert.fail('expected an error'),
      (e: grpc.ServiceError) => e,
    )
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT)
    assert.equal(err.details, 'données invalides ✗ 名前')
  })

  test('calls on one channel are balanced across backends per call', async () => {
    const fresh = echoClient(`127.0.0.1:${h2cPort}`, grpc.credentials.createInsecure())
    try {
      const servedBy = new Set<string>()
      for (let i = 0; i < 8; i++) {
        const { headers } = await fresh.unaryFull({ text: `rr${i}`, count: 0 }, new grpc.Metadata())
        servedBy.add(String(headers.get('x-served-by')[0]))
      }
      assert.deepEqual([...servedBy].sort(), ['a', 'b'])
    } finally {
      fresh.close()
    }
  })

  test('the gateway answers a call no location takes with UNIMPLEMENTED, not an HTML page', async () => {
    const stray = echoClient(`127.0.0.1:${h2cPort}`, grpc.credentials.createInsecure(), 'other.Echo')
    try {
      const err = await stray.unary({ text: 'x', count: 0 }).then(
        () => assert.fail('expected an error'),
        (e: grpc.ServiceError) => e,
      )
      assert.equal(err.code, grpc.status.UNIMPLEMENTED)
      assert.match(err.details, /NO_ROUTE/)
    } finally {
      stray.close()
    }
  })

  test('an unreachable upstream is UNAVAILABLE for the client', async () => {
    const dead = echoClient(`127.0.0.1:${h2cPort}`, grpc.credentials.createInsecure(), 'dead.Echo')
    try {
      const err = await dead.unary({ text: 'x', count: 0 }).then(
        () => assert.fail('expected an error'),
        (e: grpc.ServiceError) => e,
      )
      assert.equal(err.code, grpc.status.UNAVAILABLE)
      assert.match(err.details, /UPSTREAM_CONNECT/)
    } finally {
      dead.close()
    }
  })

  test('every call kind works over TLS with ALPN h2', async () => {
    const tls = echoClient(`127.0.0.1:${tlsPort}`, grpc.credentials.createSsl(Buffer.from(ca.certPem)), 'echo.Echo', {
      'grpc.ssl_target_name_override': 'grpc.test',
      'grpc.default_authority': 'grpc.test',
    })
    try {
      assert.equal((await tls.unary({ text: 'secure', count: 0 })).text, 'echo:secure')
      assert.equal((await tls.serverStream({ text: 's', count: 5 })).length, 5)
      assert.equal(
        (
          await tls.clientStream([
            { text: 'n', count: 2 },
            { text: 'n', count: 3 },
          ])
        ).count,
        5,
      )
      assert.deepEqual(await tls.pingPong(['x', 'y']), ['echo:x', 'echo:y'])
    } finally {
      tls.close()
    }
  })
})

describe('gRPC to a TLS upstream (alpn = "h2" over TLS)', () => {
  let ca: TestCa
  let other: TestCa
  let backend: EchoServer
  let gateway: GatewayProcess
  let client: EchoClient

  before(async () => {
    ca = createTestCa()
    other = createTestCa('another-ca')
    const cert = ca.issue({ dns: ['backend.test'] })
    backend = await startEchoServer('tls-backend', cert)
    const port = await freePort()
    gateway = await startGateway(`
[upstreams.secure]
addrs = ["127.0.0.1:${backend.port}"]
alpn = "h2"
sni = "backend.test"
ca = "${ca.certPath}"

[upstreams.untrusted]
addrs = ["127.0.0.1:${backend.port}"]
alpn = "h2"
sni = "backend.test"
ca = "${other.certPath}"

[locations.secure]
upstream = "secure"
path = "/echo.Echo/"

[locations.untrusted]
upstream = "untrusted"
path = "/untrusted.Echo/"

[servers.h2c]
addr = "127.0.0.1:${port}"
h2c = true
locations = ["secure", "untrusted"]
`)
    client = echoClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure())
  })

  after(async () => {
    client?.close()
    await gateway?.stop()
    await backend?.stop()
    ca?.cleanup()
    other?.cleanup()
  })

  test('every call kind reaches a TLS backend whose certificate the upstream CA verifies', async () => {
    assert.equal((await client.unary({ text: 'tls-up', count: 0 })).text, 'echo:tls-up')
    assert.equal((await client.serverStream({ text: 's', count: 4 })).length, 4)
    assert.deepEqual(await client.pingPong(['a', 'b']), ['echo:a', 'echo:b'])
  })

  test('a backend certificate from another CA fails the call as UNAVAILABLE', async () => {
    const untrusted = echoClient(client.target, grpc.credentials.createInsecure(), 'untrusted.Echo')
    try {
      const err = await untrusted.unary({ text: 'x', count: 0 }).then(
        () => assert.fail('expected an error'),
        (e: grpc.ServiceError) => e,
      )
      assert.equal(err.code, grpc.status.UNAVAILABLE)
    } finally {
      untrusted.close()
    }
  })
})

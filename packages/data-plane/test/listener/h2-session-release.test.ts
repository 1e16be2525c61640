// A closed client HTTP/2 session is released at once, not kept until keepalive_timeout: Node left
// the idle timer of a destroyed session armed, and the timer held the session.
import assert from 'node:assert/strict'
import http2 from 'node:http2'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { queryObjects } from 'node:v8'
import { configHash } from '@fleetgate/schema'
import { createTestCa, freePort, startBackend, type TestBackend, type TestCa } from '@fleetgate/testkit'
import { createGateway, type Gateway } from '../../src/gateway.ts'
import { recordingLogger, tomlConfig } from '../tls/tls-fixture.ts'

/** The class of server-side HTTP/2 sessions, taken from a throwaway server's first session. */
async function serverSessionClass(): Promise<new (...args: never[]) => unknown> {
  const server = http2.createServer()
  const seen = new Promise<http2.ServerHttp2Session>((resolve) => server.once('session', resolve))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  const client = http2.connect(`http://127.0.0.1:${port}`)
  const session = await seen
  client.destroy()
  await new Promise((resolve) => server.close(resolve))
  return session.constructor as new (
    ...args: never[]
  ) => unknown
}

/** One GET on a new session, then the session is closed; resolves once the client saw it close. */
async function oneRequestSession(url: string, ca?: string): Promise<number> {
  const session = http2.connect(url, { ca, servername: 'gw.test' })
  session.on('error', () => {})
  const status = await new Promise<number>((resolve, reject) => {
    const stream = session.request({ ':path': '/x' })
    stream.on('response', (h) => resolve(Number(h[':status'])))
    stream.on('error', reject)
    stream.resume()
  })
  await new Promise<void>((resolve) => session.close(resolve))
  return status
}

/** Live server sessions (queryObjects collects garbage first), polled until `want` or `ms` pass. */
async function liveSessionsSettle(cls: new (...args: never[]) => unknown, want: number, ms: number): Promise<number> {
  const deadline = Date.now() + ms
  for (;;) {
    const live = queryObjects(cls, { format: 'count' }) as number
    if (live <= want || Date.now() > deadline) return live
    await sleep(100)
  }
}

describe('closed HTTP/2 client sessions', () => {
  let backend: TestBackend
  let ca: TestCa
  let gateway: Gateway
  let h2cPort: number
  let tlsPort: number
  let sessionClass: new (...args: never[]) => unknown

  before(async () => {
    backend = await startBackend('b')
    ca = createTestCa()
    const cert = ca.issue({ dns: ['gw.test'], ips: ['127.0.0.1'] })
    ;[h2cPort, tlsPort] = await Promise.all([freePort(), freePort()])
    sessionClass = await serverSessionClass()
    gateway = createGateway({ logger: recordingLogger().logger })
    const config = tomlConfig(`
[upstreams.b]
addrs = ["${backend.addr}"]

[locations.all]
upstream = "b"
path = "/"

[servers.h2c]
addr = "127.0.0.1:${h2cPort}"
h2c = true
keepalive_timeout = "60s"
locations = ["all"]

[servers.tls]
addr = "127.0.0.1:${tlsPort}"
tls_cert = "${cert.certPath}"
tls_key = "${cert.keyPath}"
enable_http2 = true
keepalive_timeout = "60s"
locations = ["all"]
`)
    await gateway.apply(config, { generation: 1, sha256: configHash(config), source: 'test' })
  })

  after(async () => {
    await gateway?.shutdown()
    await backend?.close()
    ca?.cleanup()
  })

  for (const kind of ['h2c', 'TLS h2'] as const) {
    test(`${kind}: sessions the client closed are released long before keepalive_timeout`, async () => {
      const before = await liveSessionsSettle(sessionClass, 0, 2000)
      const url = kind === 'h2c' ? `http://127.0.0.1:${h2cPort}` : `https://127.0.0.1:${tlsPort}`
      for (let i = 0; i < 10; i++) assert.equal(await oneRequestSession(url, ca.certPem), 200)
      // Before the fix all 10 stayed reachable for the 60 s keepalive_timeout.
      assert.equal(await liveSessionsSettle(sessionClass, before, 3000), before)
    })
  }
})

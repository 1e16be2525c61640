import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { createServer as createHttp2Server } from 'node:http2'
import { createServer as createTlsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { setImmediate as tick } from 'node:timers/promises'
import { configHash } from '@fleetgate/schema'
import { freePort, refusedPort, waitFor } from '@fleetgate/testkit'
import { createUpstream } from '../../src/upstream/index.ts'
import { recordingLogger, upstreamConfig } from './upstream-config.ts'

async function listening(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return (server.address() as AddressInfo).port
}

async function stopServer(server: Server): Promise<void> {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
}

const req = { clientIp: '127.0.0.1', headers: {}, query: '' }

describe('upstream', () => {
  let server: Server
  let port: number
  before(async () => {
    server = createServer((r, res) => res.end(`hello ${r.url} via ${r.headers.host}`))
    port = await listening(server)
  })
  after(() => stopServer(server))

  test('a request through a picked backend reaches the real server and close() resolves', async () => {
    const config = upstreamConfig({ addrs: [`127.0.0.1:${port}`], read_timeout: '7s' })
    const upstream = createUpstream('api', config, { logger: recordingLogger() })
    assert.equal(upstream.hash, configHash(config))
    assert.equal(upstream.readTimeoutMs, 7000)
    const backend = upstream.pick(req)
    assert.ok(backend)
    backend.onRequestStart()
    assert.equal(backend.inflight, 1)
    const res = await backend.dispatcher.request({ method: 'GET', path: '/ping' })
    assert.equal(res.statusCode, 200)
    assert.equal(await res.body.text(), `hello /ping via 127.0.0.1:${port}`)
    backend.onRequestEnd(false)
    assert.equal(backend.inflight, 0)
    await upstream.close()
    await upstream.close()
  })

  test('connections to a backend are kept alive and reused', async () => {
    const upstream = createUpstream('api', upstreamConfig({ addrs: [`127.0.0.1:${port}`] }), { logger: recordingLogger() })
    let connections = 0
    const count = () => {
      connections += 1
    }
    server.on('connection', count)
    try {
      for (let i = 0; i < 5; i++) {
        const res = await upstream.pick(req)!.dispatcher.request({ method: 'GET', path: '/' })
        await res.body.dump()
        // undici frees the connection a tick after the body ends; without this it opens a second one.
        await tick()
      }
      assert.equal(connections, 1)
    } finally {
      server.off('connection', count)
      await upstream.close()
    }
  })

  test('an upstream whose backends are all down reports hasAvailable() false', async () => {
    const closed = [await freePort(), await freePort()]
    const config = upstreamConfig({
      addrs: closed.map((p) => `127.0.0.1:${p}`),
      health_check: 'tcp://?interval=100ms&failure=1&timeout=300ms',
    })
    const logger = recordingLogger()
    const upstream = createUpstream('dead', config, { logger })
    try {
      assert.ok(upstream.hasAvailable())
      upstream.start()
      upstream.start()
      await waitFor('all backends down', () => !upstream.hasAvailable(), 3000, 10)
      assert.equal(upstream.pick(req), undefined)
      assert.equal(logger.lines.filter((l) => l.msg === 'backend marked down by health check').length, 2)
    } finally {
      await upstream.close()
    }
  })

  test('a healthy backend keeps serving while a dead one is checked out of rotation', async () => {
    const dead = await refusedPort()
    const config = upstreamConfig({
      addrs: [`127.0.0.1:${port}`, `127.0.0.1:${dead}`],
      health_check: 'http://api.internal/?interval=100ms&failure=1&timeout=300ms',
    })
    const upstream = createUpstream('mixed', config, { logger: recordingLogger() })
    try {
      upstream.start()
      await waitFor('dead backend down', () => upstream.backends[1]!.isUp === false, 3000, 10)
      for (let i = 0; i < 4; i++) assert.equal(upstream.pick(req)?.port, port)
      assert.ok(upstream.hasAvailable())
    } finally {
      await upstream.close()
    }
  })

  test('alpn "h2" on a plain-text backend speaks HTTP/2 with prior knowledge', async () => {
    const h2 = createHttp2Server((r, res) => res.end(`http ${r.httpVersion}`))
    h2.listen(0, '127.0.0.1')
    await once(h2, 'listening')
    const h2port = (h2.address() as AddressInfo).port
    const upstream = createUpstream('grpc', upstreamConfig({ addrs: [`127.0.0.1:${h2port}`], alpn: 'h2' }), { logger: recordingLogger() })
    try {
      const res = await upstream.pick(req)!.dispatcher.request({ method: 'GET', path: '/' })
      assert.equal(await res.body.text(), 'http 2.0')
    } finally {
      await upstream.close()
      await new Promise((resolve) => h2.close(resolve))
    }
  })

  test('a malformed algorithm is refused when the upstream is built', () => {
    assert.throws(() => createUpstream('x', upstreamConfig({ algorithm: 'fastest' }), { logger: recordingLogger() }), /unknown algorithm/)
  })

  test('a connect failure rejects the request within the connection timeout', async () => {
    const dead = await refusedPort()
    const upstream = createUpstream('x', upstreamConfig({ addrs: [`127.0.0.1:${dead}`] }), { logger: recordingLogger() })
    try {
      await assert.rejects(upstream.pick(req)!.dispatcher.request({ method: 'GET', path: '/' }), { code: 'ECONNREFUSED' })
    } finally {
      await upstream.close()
    }
  })
})

describe('upstream over TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-upstream-tls-'))
  let server: Server
  let port: number
  before(async () => {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-subj',
        '/CN=backend.test',
        '-addext',
        'subjectAltName=DNS:backend.test',
      ],
      { stdio: 'ignore' },
    )
    const tls = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }
    server = createTlsServer(tls, (r, res) => res.end(`tls ${(r.socket as { servername?: string }).servername}`))
    port = await listening(server)
  })
  after(async () => {
    await stopServer(server)
    rmSync(dir, { recursive: true, force: true })
  })

  const cases = [
    {
      name: 'verifies the backend against a CA read from a path, sending the configured SNI',
      ca: () => join(dir, 'cert.pem'),
      verify: true,
      ok: true,
    },
    { name: 'takes an inline PEM CA', ca: () => readFileSync(join(dir, 'cert.pem'), 'utf8'), verify: true, ok: true },
    { name: 'refuses a backend whose certificate is not trusted', ca: () => undefined, verify: true, ok: false },
    { name: 'accepts an untrusted certificate when verify_cert is off', ca: () => undefined, verify: false, ok: true },
  ]
  for (const c of cases) {
    test(c.name, async () => {
      const ca = c.ca()
      const config = upstreamConfig({ addrs: [`127.0.0.1:${port}`], sni: 'backend.test', verify_cert: c.verify, ...(ca ? { ca } : {}) })
      const upstream = createUpstream('secure', config, { logger: recordingLogger() })
      try {
        const pending = upstream.pick(req)!.dispatcher.request({ method: 'GET', path: '/' })
        if (!c.ok) return void (await assert.rejects(pending, /self-signed|certificate/i))
        const res = await pending
        assert.equal(await res.body.text(), 'tls backend.test')
      } finally {
        await upstream.close()
      }
    })
  }
})

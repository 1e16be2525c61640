// gRPC active health checks (grpc:// and grpcs://) against real @grpc/grpc-js servers whose
// grpc.health.v1 service flips status, plus the hand-written HealthCheck message codec.
import assert from 'node:assert/strict'
import { createServer, type Server as NetServer } from 'node:net'
import { after, describe, test } from 'node:test'
import { parseBackendAddr, parseHealthCheck, type UpstreamConfig } from '@fleetgate/schema'
import { createTestCa, waitFor } from '@fleetgate/testkit'
import * as grpc from '@grpc/grpc-js'
import { createBackend } from '../../src/upstream/backend.ts'
import { decodeServingStatus, encodeHealthCheckFrame } from '../../src/upstream/grpc-health-message.ts'
import { createHealthChecker } from '../../src/upstream/health-checker.ts'
import { resolveUpstreamTls } from '../../src/upstream/tls-options.ts'
import { recordingLogger, upstreamConfig } from './upstream-config.ts'

const raw = (b: Buffer) => b
const healthService: grpc.ServiceDefinition = {
  Check: {
    path: '/grpc.health.v1.Health/Check',
    requestStream: false,
    responseStream: false,
    requestSerialize: raw,
    requestDeserialize: raw,
    responseSerialize: raw,
    responseDeserialize: raw,
  },
}

/** A grpc-js server with a health service answering from `statuses` (service name -> enum value). */
interface HealthServer {
  port: number
  statuses: Map<string, number>
  /** Service names asked about, in order. */
  asked: string[]
  /** When true, Check never answers. */
  hang: boolean
  stop(): void
}

async function startHealthServer(options: { health?: boolean; credentials?: grpc.ServerCredentials } = {}): Promise<HealthServer> {
  const server = new grpc.Server()
  const state: HealthServer = { port: 0, statuses: new Map([['', 1]]), asked: [], hang: false, stop: () => server.forceShutdown() }
  if (options.health !== false) {
    server.addService(healthService, {
      Check(call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) {
        // HealthCheckRequest: optional field 1 (string), read here independently of the codec under test.
        const service = call.request.length === 0 ? '' : call.request.subarray(2, 2 + (call.request[1] as number)).toString('utf8')
        state.asked.push(service)
        if (state.hang) return
        const status = state.statuses.get(service)
        if (status === undefined) callback({ code: grpc.status.NOT_FOUND, details: `unknown service ${service}` })
        else callback(null, status === 0 ? Buffer.alloc(0) : Buffer.from([0x08, status]))
      },
    })
  }
  state.port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', options.credentials ?? grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  )
  return state
}

function checkerFor(spec: string, port: number, overrides: Partial<UpstreamConfig> = {}) {
  const logger = recordingLogger()
  const config = upstreamConfig({ addrs: [`127.0.0.1:${port}`], health_check: spec, alpn: 'h2', ...overrides })
  const tls = resolveUpstreamTls(config)
  const backend = createBackend(parseBackendAddr(`127.0.0.1:${port}`), config, { logger, upstream: 'grpc', tls })
  const checker = createHealthChecker(parseHealthCheck(spec), [backend], { logger, upstream: 'grpc', tls })
  checker.start()
  const reasons = () => logger.lines.map((l) => String((l.obj as { reason?: string }).reason ?? ''))
  return {
    backend,
    reasons,
    stop: async () => {
      await checker.stop()
      await backend.close()
    },
  }
}

describe('grpc health_check strings', () => {
  test('parse the service name, the TLS variant and the usual options', () => {
    const spec = parseHealthCheck('grpc://?service=echo.Echo&interval=2s&timeout=500ms&failure=3')
    assert.deepEqual(
      [spec.kind, spec.service, spec.host, spec.intervalMs, spec.timeoutMs, spec.failure],
      ['grpc', 'echo.Echo', '', 2000, 500, 3],
    )
    const tls = parseHealthCheck('grpcs://api.internal')
    assert.deepEqual([tls.kind, tls.service, tls.host], ['grpcs', '', 'api.internal'])
  })

  test('refuse a path or an unknown option', () => {
    assert.throws(() => parseHealthCheck('grpc://host/healthz'), /takes no path/)
    assert.throws(() => parseHealthCheck('grpc://?services=x'), /only service/)
  })
})

describe('HealthCheck message codec', () => {
  test('encodes a request frame with and without a service name', () => {
    assert.deepEqual(encodeHealthCheckFrame(''), Buffer.from([0, 0, 0, 0, 0]))
    assert.deepEqual(encodeHealthCheckFrame('echo.Echo'), Buffer.concat([Buffer.from([0, 0, 0, 0, 11, 0x0a, 9]), Buffer.from('echo.Echo')]))
  })

  const cases: Array<[string, number[], number]> = [
    ['SERVING', [0x08, 1], 1],
    ['NOT_SERVING', [0x08, 2], 2],
    ['an empty message (proto3 default UNKNOWN)', [], 0],
    ['unknown fields around the status', [0x12, 2, 0x61, 0x62, 0x08, 1, 0x1d, 1, 2, 3, 4], 1],
    ['a multi-byte varint', [0x08, 0x81, 0x01], 129],
  ]
  for (const [what, bytes, status] of cases) {
    test(`decodes ${what}`, () => assert.equal(decodeServingStatus(Buffer.from(bytes)), status))
  }

  test('refuses a truncated message', () => {
    assert.throws(() => decodeServingStatus(Buffer.from([0x08])), /truncated/)
    assert.throws(() => decodeServingStatus(Buffer.from([0x12, 5, 1])), /truncated/)
  })
})

describe('grpc:// health checks', () => {
  const servers: Array<{ stop(): void }> = []
  after(() => {
    for (const s of servers) s.stop()
  })

  test('a backend whose service flips from SERVING to NOT_SERVING goes down, and comes back', async () => {
    const server = await startHealthServer()
    servers.push(server)
    server.statuses.set('echo.Echo', 1)
    const check = checkerFor('grpc://?service=echo.Echo&interval=100ms&timeout=1s&failure=2&success=2', server.port)
    try {
      await waitFor('first check', () => server.asked.length >= 1, 5000)
      assert.equal(server.asked[0], 'echo.Echo', 'the service name reaches the health service')
      assert.equal(check.backend.isUp, true)
      server.statuses.set('echo.Echo', 2)
      await waitFor('backend down', () => !check.backend.isUp, 5000)
      assert.ok(check.reasons().includes('serving status NOT_SERVING'), check.reasons().join(' | '))
      server.statuses.set('echo.Echo', 1)
      await waitFor('backend up again', () => check.backend.isUp, 5000)
    } finally {
      await check.stop()
    }
  })

  test('without a service name the server as a whole is asked', async () => {
    const server = await startHealthServer()
    servers.push(server)
    server.statuses.set('', 3)
    const check = checkerFor('grpc://?interval=100ms&failure=1', server.port)
    try {
      await waitFor('backend down', () => !check.backend.isUp, 5000)
      assert.equal(server.asked[0], '')
      assert.ok(check.reasons().includes('serving status SERVICE_UNKNOWN'), check.reasons().join(' | '))
    } finally {
      await check.stop()
    }
  })

  const downCases: Array<[string, (s: HealthServer) => void, RegExp, { health?: boolean }]> = [
    ['an unknown service (NOT_FOUND)', () => {}, /^grpc-status 5 \(unknown service nope\)$/, {}],
    ['a server with no health service (UNIMPLEMENTED)', () => {}, /^grpc-status 12/, { health: false }],
    [
      'a health service that never answers (timeout)',
      (s) => {
        s.hang = true
      },
      /no answer within 300ms/,
      {},
    ],
  ]
  for (const [what, arrange, reason, options] of downCases) {
    test(`${what} counts as down`, async () => {
      const server = await startHealthServer(options)
      servers.push(server)
      arrange(server)
      const check = checkerFor('grpc://?service=nope&interval=100ms&timeout=300ms&failure=1', server.port)
      try {
        await waitFor('backend down', () => !check.backend.isUp, 5000)
        assert.ok(
          check.reasons().some((r) => reason.test(r)),
          check.reasons().join(' | '),
        )
      } finally {
        await check.stop()
      }
    })
  }

  test('a port that speaks no HTTP/2 counts as down', async () => {
    const plain: NetServer = createServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'))
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve))
    servers.push({ stop: () => plain.close() })
    const check = checkerFor('grpc://?interval=100ms&timeout=500ms&failure=1', (plain.address() as { port: number }).port)
    try {
      await waitFor('backend down', () => !check.backend.isUp, 5000)
    } finally {
      await check.stop()
    }
  })

  test('grpcs:// checks over TLS with the upstream CA and sni', async () => {
    const ca = createTestCa()
    try {
      const cert = ca.issue({ dns: ['grpc.test'] })
      const server = await startHealthServer({
        credentials: grpc.ServerCredentials.createSsl(null, [
          { cert_chain: Buffer.from(cert.certPem), private_key: Buffer.from(cert.keyPem) },
        ]),
      })
      servers.push(server)
      const check = checkerFor('grpcs://?interval=100ms&timeout=1s&failure=1&success=1', server.port, {
        tls: true,
        sni: 'grpc.test',
        ca: ca.certPath,
      })
      try {
        await waitFor('a check answered over TLS', () => server.asked.length >= 2, 5000)
        assert.equal(check.backend.isUp, true, check.reasons().join(' | '))
        server.statuses.set('', 2)
        await waitFor('backend down', () => !check.backend.isUp, 5000)
      } finally {
        await check.stop()
      }
      // A CA that did not sign the certificate: the handshake fails, the backend is down.
      const other = createTestCa()
      try {
        const untrusted = checkerFor('grpcs://?interval=100ms&timeout=1s&failure=1', server.port, {
          tls: true,
          sni: 'grpc.test',
          ca: other.certPath,
        })
        try {
          await waitFor('untrusted backend down', () => !untrusted.backend.isUp, 5000)
        } finally {
          await untrusted.stop()
        }
      } finally {
        other.cleanup()
      }
    } finally {
      ca.cleanup()
    }
  })
})

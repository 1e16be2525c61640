// A second, independent gRPC implementation through the gateway: Debian's python3-grpcio
// (C core), calling a @grpc/grpc-js server with raw bytes over h2c and over TLS (ALPN h2).
// It runs with /usr/bin/python3 on purpose: the Debian package installs there, not into
// whatever python3 comes first on PATH.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { createTestCa, freePort, type GatewayProcess, startGateway, type TestCa } from '@fleetgate/testkit'
import { type RawGrpcServer, startRawGrpcServer } from './raw-grpc-server.ts'

const PYTHON = '/usr/bin/python3'
const CLIENT = new URL('./fixtures/grpc_raw_client.py', import.meta.url).pathname

interface PythonResults {
  unary: { reply: string; headers: Record<string, string>; trailers: Record<string, string> }
  stream: string[]
  error: { code: string; details?: string }
  no_route: { code: string; details?: string }
}

async function runClient(args: string[]): Promise<PythonResults> {
  const { stdout } = await promisify(execFile)(PYTHON, [CLIENT, ...args], { timeout: 30_000 })
  return JSON.parse(stdout) as PythonResults
}

function checkResults(got: PythonResults, server: RawGrpcServer): void {
  assert.equal(got.unary.reply, 'echo:héllo py')
  assert.equal(got.unary.headers['x-served-by'], 'py')
  assert.equal(got.unary.trailers['x-trailer'], 'done')
  const seen = server.seen.findLast((s) => s.method === 'Unary')
  assert.equal(seen?.metadata['x-client'], 'python', 'request metadata reached the server')
  assert.deepEqual(got.stream, ['py 0', 'py 1', 'py 2', 'py 3', 'py 4'])
  assert.deepEqual(got.error, { code: 'INVALID_ARGUMENT', details: 'données invalides ✗ 名前' })
  assert.equal(got.no_route.code, 'UNIMPLEMENTED', 'the gateway answers an unrouted call as a gRPC error')
  assert.match(got.no_route.details ?? '', /NO_ROUTE/)
}

describe('python3-grpcio through the gateway', () => {
  let server: RawGrpcServer
  let gateway: GatewayProcess
  let ca: TestCa
  let h2cPort: number
  let tlsPort: number

  before(async () => {
    server = await startRawGrpcServer('py')
    ;[h2cPort, tlsPort] = await Promise.all([freePort(), freePort()])
    ca = createTestCa()
    const cert = ca.issue({ dns: ['grpc.test'] })
    gateway = await startGateway(`
[upstreams.raw]
addrs = ["127.0.0.1:${server.port}"]
alpn = "h2"

[locations.raw]
upstream = "raw"
path = "/fixture.Raw/"

[servers.h2c]
addr = "127.0.0.1:${h2cPort}"
h2c = true
locations = ["raw"]

[servers.tls]
addr = "127.0.0.1:${tlsPort}"
tls_cert = "${cert.certPath}"
tls_key = "${cert.keyPath}"
enable_http2 = true
locations = ["raw"]
`)
  })

  after(async () => {
    await gateway?.stop()
    await server?.stop()
    ca?.cleanup()
  })

  test('unary, server streaming, metadata, trailers and errors over h2c', async () => {
    checkResults(await runClient([`127.0.0.1:${h2cPort}`]), server)
  })

  test('the same calls over TLS, the certificate checked against the test CA', async () => {
    checkResults(await runClient([`127.0.0.1:${tlsPort}`, '--ca', ca.certPath, '--server-name', 'grpc.test']), server)
  })

  test('a client that does not trust the certificate fails to connect (the check is real)', async () => {
    const other = createTestCa()
    try {
      await assert.rejects(runClient([`127.0.0.1:${tlsPort}`, '--ca', other.certPath, '--server-name', 'grpc.test']), /UNAVAILABLE/)
    } finally {
      other.cleanup()
    }
  })
})

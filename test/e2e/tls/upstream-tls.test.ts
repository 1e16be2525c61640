// TLS to upstreams: verify_cert on (a self-signed backend is a 502), off (passes), a custom CA
// (passes), the configured SNI reaches the backend, and client certificates (mTLS) for backends
// that require one.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import type { TLSSocket } from 'node:tls'
import { createTestCa, freePort, type GatewayProcess, startGateway, type TestCa, type TestCert } from '@fleetgate/testkit'
import { request } from 'undici'

let ca: TestCa
let selfSigned: TestCa
let clientCa: TestCa
let gatewayClient: TestCert
let gateway: GatewayProcess
let port: number
const servers: Server[] = []

/** An HTTPS backend answering with the SNI it saw and the verified client CN. */
async function httpsBackend(cert: { certPem: string; keyPem: string }, mtlsCa?: string): Promise<string> {
  const server = createServer(
    { cert: cert.certPem, key: cert.keyPem, ...(mtlsCa ? { requestCert: true, rejectUnauthorized: true, ca: mtlsCa } : {}) },
    (req, res) => {
      const socket = req.socket as TLSSocket
      const client = socket.authorized ? socket.getPeerCertificate().subject?.CN : undefined
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ servername: socket.servername, client }))
    },
  )
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  servers.push(server)
  return `127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function get(path: string): Promise<{ status: number; body: string }> {
  const res = await request(`http://127.0.0.1:${port}${path}`)
  return { status: res.statusCode, body: await res.body.text() }
}

describe('upstream TLS', () => {
  before(async () => {
    ca = createTestCa('backend-ca')
    selfSigned = createTestCa('self-signed.test')
    clientCa = createTestCa('gateway-clients-ca')
    gatewayClient = clientCa.issue({ dns: [], usage: 'client' })
    const selfSignedPem = { certPem: selfSigned.certPem, keyPem: (await import('node:fs')).readFileSync(selfSigned.keyPath, 'utf8') }
    const backendCert = ca.issue({ dns: ['backend.test'] })
    const selfAddr = await httpsBackend(selfSignedPem)
    const caAddr = await httpsBackend(backendCert)
    const mtlsAddr = await httpsBackend(backendCert, clientCa.certPem)
    port = await freePort()
    const upstream = (name: string, addr: string, extra: string) =>
      `[upstreams.${name}]\naddrs = ["${addr}"]\ntls = true\nmax_retries = 0\n${extra}\n`
    const location = (name: string) => `[locations.${name}]\nupstream = "${name}"\npath = "/${name}"\n`
    const names = ['strict', 'lax', 'custom_ca', 'mtls_none', 'mtls']
    gateway = await startGateway(`
${upstream('strict', selfAddr, '')}
${upstream('lax', selfAddr, 'verify_cert = false')}
${upstream('custom_ca', caAddr, `sni = "backend.test"\nca = "${ca.certPath}"`)}
${upstream('mtls_none', mtlsAddr, `sni = "backend.test"\nca = "${ca.certPath}"`)}
${upstream('mtls', mtlsAddr, `sni = "backend.test"\nca = "${ca.certPath}"\ntls_cert = "${gatewayClient.certPath}"\ntls_key = "${gatewayClient.keyPath}"`)}
${names.map(location).join('\n')}
[servers.main]
addr = "127.0.0.1:${port}"
locations = ${JSON.stringify(names)}
`)
  })
  after(async () => {
    await gateway?.stop()
    for (const server of servers) {
      server.closeAllConnections()
      server.close()
    }
    for (const c of [ca, selfSigned, clientCa]) c?.cleanup()
  })

  test('verify_cert (the default) refuses a self-signed backend with 502', async () => {
    assert.equal((await get('/strict')).status, 502)
  })

  test('verify_cert = false accepts it', async () => {
    assert.equal((await get('/lax')).status, 200)
  })

  test('a custom CA verifies the backend, which sees the configured SNI', async () => {
    const res = await get('/custom_ca')
    assert.equal(res.status, 200)
    assert.equal(JSON.parse(res.body).servername, 'backend.test')
  })

  test('a backend requiring a client certificate: 502 without tls_cert, 200 with it', async () => {
    assert.equal((await get('/mtls_none')).status, 502)
    const res = await get('/mtls')
    assert.equal(res.status, 200)
    assert.equal(JSON.parse(res.body).client, gatewayClient.subject.slice(4))
  })
})

// Downstream client certificates through the gateway: tls_client_auth "required" refuses
// clients without a certificate from tls_client_ca; "optional" serves both; the verified
// subject reaches the access log as {tls_client_subject}.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import {
  createTestCa,
  freePort,
  type GatewayProcess,
  startBackend,
  startGateway,
  type TestBackend,
  type TestCa,
  type TestCert,
  waitFor,
} from '@fleetgate/testkit'
import { Agent, request } from 'undici'

let ca: TestCa
let stranger: TestCa
let serverCert: TestCert
let client: TestCert
let strangerClient: TestCert
let backend: TestBackend
let gateway: GatewayProcess
let requiredPort: number
let optionalPort: number

async function get(port: number, identity?: TestCert): Promise<number> {
  const agent = new Agent({
    connect: { servername: 'mtls.test', ca: ca.certPem, ...(identity ? { cert: identity.certPem, key: identity.keyPem } : {}) },
  })
  try {
    const res = await request(`https://127.0.0.1:${port}/who`, { dispatcher: agent })
    await res.body.text()
    return res.statusCode
  } finally {
    await agent.close()
  }
}

describe('client certificates (mTLS) through the gateway', () => {
  before(async () => {
    ca = createTestCa('clients-ca')
    stranger = createTestCa('stranger-ca')
    serverCert = ca.issue({ dns: ['mtls.test'] })
    client = ca.issue({ dns: [], usage: 'client' })
    strangerClient = stranger.issue({ dns: [], usage: 'client' })
    backend = await startBackend('app')
    ;[requiredPort, optionalPort] = [await freePort(), await freePort()]
    const server = (name: string, port: number, mode: string) => `
[servers.${name}]
addr = "127.0.0.1:${port}"
locations = ["all"]
tls_cert = "${serverCert.certPath}"
tls_key = "${serverCert.keyPath}"
tls_client_auth = "${mode}"
tls_client_ca = "${ca.certPath}"
access_log = "${name} {path} {status} subject={tls_client_subject}"
`
    gateway = await startGateway(`
[upstreams.app]
addrs = ["${backend.addr}"]

[locations.all]
upstream = "app"
${server('required', requiredPort, 'required')}
${server('optional', optionalPort, 'optional')}
`)
  })
  after(async () => {
    await gateway?.stop()
    await backend?.close()
    ca?.cleanup()
    stranger?.cleanup()
  })

  test('"optional" serves anonymous and verified clients and logs the verified subject', async () => {
    assert.equal(await get(optionalPort), 200)
    assert.equal(await get(optionalPort, client), 200)
    await waitFor(
      'subject in the access log',
      () => gateway.process.output().includes(`optional /who 200 subject=${client.subject.slice(1)}`),
      5000,
    )
    assert.match(gateway.process.output(), /optional \/who 200 subject=-/)
  })

  test('"required" serves a client with a certificate from tls_client_ca', async () => {
    assert.equal(await get(requiredPort, client), 200)
  })

  test('"required" refuses clients without a certificate or with one from another CA', async () => {
    await assert.rejects(get(requiredPort))
    await assert.rejects(get(requiredPort, strangerClient))
  })
})

// Downstream client certificates (mTLS): tls_client_auth "required" and "optional" against tls_client_ca.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { createTestCa, type TestCa, type TestCert } from '@fleetgate/testkit'
import { createCertificateStore } from '../../src/tls/certificate-store.ts'
import type { ServerTls } from '../../src/tls/types.ts'
import { handshake, recordingLogger, serveTls, tomlConfig } from './tls-fixture.ts'

let ca: TestCa
let stranger: TestCa
let serverCert: TestCert
let client: TestCert
let strangerClient: TestCert

function serverTls(mode: string): ServerTls {
  const toml = `[upstreams.u]\naddrs = ["127.0.0.1:1"]\n[locations.l]\nupstream = "u"\n[servers.s]\naddr = "127.0.0.1:0"\nlocations = ["l"]\ntls_cert = "${serverCert.certPath}"\ntls_key = "${serverCert.keyPath}"\ntls_client_auth = "${mode}"\ntls_client_ca = "${ca.certPath}"\n`
  return createCertificateStore(tomlConfig(toml), undefined, recordingLogger().logger).forServer('s') as ServerTls
}

describe('client certificates', () => {
  before(() => {
    ca = createTestCa('client-ca')
    stranger = createTestCa('stranger-ca')
    serverCert = ca.issue({ dns: ['mtls.test'] })
    client = ca.issue({ dns: [], usage: 'client' })
    strangerClient = stranger.issue({ dns: [], usage: 'client' })
  })
  after(() => {
    ca.cleanup()
    stranger.cleanup()
  })

  test('"required" refuses clients without a certificate or with one from another CA', async () => {
    const tls = serverTls('required')
    assert.equal(tls.requestClientCert, true)
    const listener = await serveTls(tls)
    try {
      const ok = await handshake(listener.port, { servername: 'mtls.test', ca: ca.certPem, cert: client.certPem, key: client.keyPem })
      assert.equal(ok.body, `ok CN=${client.subject.slice(4)}`)
      // TLS 1.3 reports the server's refusal after the handshake: the connection ends without a greeting.
      const refused = async (options: { cert?: string; key?: string }) => {
        const seen = await handshake(listener.port, { servername: 'mtls.test', ca: ca.certPem, ...options }).catch((err: Error) => err)
        assert.ok(seen instanceof Error || seen.body === '', `refused: ${JSON.stringify(seen)}`)
      }
      await refused({})
      await refused({ cert: strangerClient.certPem, key: strangerClient.keyPem })
    } finally {
      await listener.close()
    }
  })

  test('"optional" lets anonymous clients in and verifies the ones that present a certificate', async () => {
    const tls = serverTls('optional')
    const listener = await serveTls(tls)
    try {
      assert.equal((await handshake(listener.port, { servername: 'mtls.test', ca: ca.certPem })).body, 'ok anonymous')
      const verified = await handshake(listener.port, { servername: 'mtls.test', ca: ca.certPem, cert: client.certPem, key: client.keyPem })
      assert.match(verified.body, /^ok CN=client/)
      // A certificate from another CA is not a verified subject.
      const foreign = await handshake(listener.port, {
        servername: 'mtls.test',
        ca: ca.certPem,
        cert: strangerClient.certPem,
        key: strangerClient.keyPem,
      })
      assert.equal(foreign.body, 'ok anonymous')
    } finally {
      await listener.close()
    }
  })

  test('"off" asks for no certificate', () => {
    const tls = serverTls('off')
    assert.equal(tls.requestClientCert, false)
    assert.equal(tls.clientAuth, 'off')
  })
})

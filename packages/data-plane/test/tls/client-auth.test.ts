// Downstream client certificates (mTLS): tls_client_auth "required" and "optional" against tls_client_ca.
import assert from 'node:assert/strict'
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { createTestCa, type TestCa, type TestCert, waitFor } from '@fleetgate/testkit'
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

  test('a tls_client_ca file replaced on disk is read again: a CA rotated in is trusted, a broken file keeps the old one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetgate-client-ca-'))
    const caFile = join(dir, 'clients.pem')
    // Written whole and renamed into place, as a secret mount or a deploy tool does.
    const replace = (text: string) => {
      writeFileSync(`${caFile}.tmp`, text)
      renameSync(`${caFile}.tmp`, caFile)
    }
    replace(ca.certPem)
    const toml = `[upstreams.u]\naddrs = ["127.0.0.1:1"]\n[locations.l]\nupstream = "u"\n[servers.s]\naddr = "127.0.0.1:0"\nlocations = ["l"]\ntls_cert = "${serverCert.certPath}"\ntls_key = "${serverCert.keyPath}"\ntls_client_auth = "required"\ntls_client_ca = "${caFile}"\n`
    const log = recordingLogger()
    const store = createCertificateStore(tomlConfig(toml), undefined, log.logger, {
      timing: { watch: { pollIntervalMs: 100, debounceMs: 20 } },
    })
    store.start()
    const listener = await serveTls(store.forServer('s') as ServerTls)
    const accepted = async (who: TestCert) => {
      const seen = await handshake(listener.port, { servername: 'mtls.test', ca: ca.certPem, cert: who.certPem, key: who.keyPem }).catch(
        (err: Error) => err,
      )
      return !(seen instanceof Error) && seen.body.startsWith('ok CN=')
    }
    try {
      assert.equal(await accepted(client), true)
      assert.equal(await accepted(strangerClient), false, 'the second CA is not trusted yet')
      replace(ca.certPem + stranger.certPem)
      await waitFor('the rotated-in CA trusted', () => accepted(strangerClient), 5_000)
      assert.equal(await accepted(client), true, 'the first CA is still in the bundle')
      assert.ok(log.lines.some((l) => /tls_client_ca reloaded/.test(l.msg)))

      replace('not a certificate\n')
      await waitFor('the broken file reported', () => log.lines.some((l) => /not reloaded, the previous CA stays/.test(l.msg)), 5_000)
      assert.equal(await accepted(strangerClient), true, 'a broken file changes nothing')

      replace(stranger.certPem)
      await waitFor('the first CA rotated out', async () => !(await accepted(client)), 5_000)
      assert.equal(await accepted(strangerClient), true)
    } finally {
      await listener.close()
      store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('"off" asks for no certificate', () => {
    const tls = serverTls('off')
    assert.equal(tls.requestClientCert, false)
    assert.equal(tls.clientAuth, 'off')
  })
})

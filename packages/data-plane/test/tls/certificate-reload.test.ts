// Hot reload: PEM files replaced on disk are served to new connections without a restart and
// without dropping open ones; a broken replacement keeps the old certificate.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { copyFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { connect } from 'node:tls'
import { createTestCa, type TestCa, type TestCert, waitFor } from '@fleetgate/testkit'
import { createCertificateStore, storeCertificates } from '../../src/tls/certificate-store.ts'
import type { CertificateStore, ServerTls } from '../../src/tls/types.ts'
import { recordingLogger, serveTls, tomlConfig } from './tls-fixture.ts'

const timing = { watch: { pollIntervalMs: 300, debounceMs: 50 } }
let ca: TestCa
let first: TestCert
let second: TestCert
let third: TestCert

function install(cert: TestCert, dir: string, how: 'rename' | 'in-place'): void {
  if (how === 'in-place') {
    writeFileSync(join(dir, 'live.pem'), cert.certPem)
    writeFileSync(join(dir, 'live.key'), cert.keyPem)
    return
  }
  copyFileSync(cert.certPath, join(dir, 'live.pem.tmp'))
  copyFileSync(cert.keyPath, join(dir, 'live.key.tmp'))
  renameSync(join(dir, 'live.pem.tmp'), join(dir, 'live.pem'))
  renameSync(join(dir, 'live.key.tmp'), join(dir, 'live.key'))
}

function liveStore(logger = recordingLogger().logger): { store: CertificateStore; tls: ServerTls } {
  const dir = ca.dir
  const toml = `[upstreams.u]\naddrs = ["127.0.0.1:1"]\n[locations.l]\nupstream = "u"\n[certificates.live]\ndomains = ["live.test"]\ntls_cert = "${join(dir, 'live.pem')}"\ntls_key = "${join(dir, 'live.key')}"\nis_default = true\n[servers.s]\naddr = "127.0.0.1:0"\nlocations = ["l"]\ncertificates = ["live"]\n`
  const store = createCertificateStore(tomlConfig(toml), undefined, logger, { timing })
  store.start()
  return { store, tls: store.forServer('s') as ServerTls }
}

const serialOf = async (port: number, servername?: string) => {
  const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...(servername ? { servername } : {}) })
  await once(socket, 'secureConnect')
  const serial = socket.getPeerCertificate().serialNumber
  socket.destroy()
  return serial
}

describe('certificate reload from disk', () => {
  before(() => {
    ca = createTestCa()
    first = ca.issue({ dns: ['live.test'] })
    second = ca.issue({ dns: ['live.test'] })
    third = ca.issue({ dns: ['live.test'] })
  })
  after(() => ca.cleanup())

  for (const how of ['rename', 'in-place'] as const) {
    test(`files replaced (${how}) reach new connections, open ones keep working`, async () => {
      install(first, ca.dir, 'rename')
      const { store, tls } = liveStore()
      const listener = await serveTls(tls)
      try {
        assert.equal(await serialOf(listener.port, 'live.test'), first.serial)
        const open = connect({ host: '127.0.0.1', port: listener.port, servername: 'live.test', rejectUnauthorized: false })
        await once(open, 'secureConnect')
        install(second, ca.dir, how)
        await waitFor('new certificate served', async () => (await serialOf(listener.port, 'live.test')) === second.serial, 5000)
        // Clients without SNI get it too (the listener re-applies the default on reload).
        assert.equal(await serialOf(listener.port), second.serial)
        open.write('still here')
        let echoed = ''
        open.on('data', (c: Buffer) => {
          echoed += c.toString()
        })
        await waitFor('echo on the open connection', () => echoed.includes('still here'), 2000)
        assert.equal(open.getPeerCertificate().serialNumber, first.serial)
        open.destroy()
      } finally {
        store.close()
        await listener.close()
      }
    })
  }

  test('a broken replacement keeps the old certificate and logs an error; a good one then loads', async () => {
    install(first, ca.dir, 'rename')
    const { logger, lines } = recordingLogger()
    const { store, tls } = liveStore(logger)
    const before = tls.contextFor('live.test')
    try {
      writeFileSync(join(ca.dir, 'live.pem'), first.certPem.slice(0, 200))
      await waitFor('error logged', () => lines.some((l) => l.level === 50 && /do not load/.test(l.msg)), 5000)
      assert.equal(tls.contextFor('live.test'), before)
      // A key that belongs to another certificate is refused the same way.
      install(third, ca.dir, 'rename')
      writeFileSync(join(ca.dir, 'live.key'), second.keyPem)
      await waitFor('mismatch logged', () => lines.filter((l) => l.level === 50).some((l) => /does not match/.test(String(l.err))), 5000)
      install(third, ca.dir, 'rename')
      await waitFor('reloaded', () => tls.contextFor('live.test') !== before, 5000)
      assert.ok(lines.some((l) => l.level === 30 && /reloaded/.test(l.msg)))
      assert.ok(!JSON.stringify(lines).includes('PRIVATE KEY'), 'no key material in the log')
    } finally {
      store.close()
    }
  })

  test('a closed store stops watching, and its contexts go', async () => {
    install(first, ca.dir, 'rename')
    const { store, tls } = liveStore()
    const [live] = storeCertificates(store)
    assert.ok(live !== undefined && tls.contextFor('live.test') !== undefined)
    store.close()
    assert.equal(tls.contextFor('live.test'), undefined, 'no started store serves it: its context is dropped')
    install(second, ca.dir, 'rename')
    await new Promise((resolve) => setTimeout(resolve, 700))
    assert.equal(live.material().leaf.serialNumber, first.serial, 'the file change was not read')
  })
})

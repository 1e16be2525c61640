// OCSP stapling against a real OpenSSL responder on loopback: good responses are stapled and
// verify with openssl, revoked certificates are reported and not stapled, a responder that is
// down leaves handshakes unstapled until it is back.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { createTestCa, freePort, startOcspResponder, type TestCa, type TestCert, type TestOcspResponder, waitFor } from '@fleetgate/testkit'
import { Registry } from 'prom-client'
import { createCertificateStore } from '../../src/tls/certificate-store.ts'
import { registerTlsMetrics } from '../../src/tls/tls-metrics.ts'
import type { CertificateStore, ServerTls } from '../../src/tls/types.ts'
import { handshake, recordingLogger, serveTls, tomlConfig } from './tls-fixture.ts'

const timing = { ocsp: { retryMinMs: 100, retryMaxMs: 200, refreshMs: 60_000, minRefreshMs: 1000, timeoutMs: 2000 } }
let root: TestCa
let mid: TestCa
let responder: TestOcspResponder
let good: TestCert
let revoked: TestCert
const registry = new Registry()
registerTlsMetrics(registry)

function storeFor(cert: TestCert, serverExtra = '', logger = recordingLogger().logger): { store: CertificateStore; tls: ServerTls } {
  const toml = `[upstreams.u]\naddrs = ["127.0.0.1:1"]\n[locations.l]\nupstream = "u"\n[certificates.c]\ndomains = ["${cert.subject.slice(4)}"]\ntls_cert = "${cert.certPath}"\ntls_key = "${cert.keyPath}"\ntls_chain = "${mid.certPath}"\nis_default = true\n[servers.s]\naddr = "127.0.0.1:0"\nlocations = ["l"]\ncertificates = ["c"]\n${serverExtra}\n`
  const store = createCertificateStore(tomlConfig(toml), undefined, logger, { timing })
  store.start()
  return { store, tls: store.forServer('s') as ServerTls }
}

async function ocspStatusMetric(): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('fleetgate_tls_ocsp_status')?.get()
  const out: Record<string, number> = {}
  for (const v of metric?.values ?? []) if (v.labels.certificate === 'c') out[String(v.labels.status)] = v.value
  return out
}

describe('OCSP stapling', () => {
  before(async () => {
    root = createTestCa('ocsp-root')
    mid = root.intermediate('ocsp-mid')
    responder = await startOcspResponder(mid)
    good = mid.issue({ dns: ['good.test'], ocspUrl: responder.url })
    revoked = mid.issue({ dns: ['revoked.test'], ocspUrl: responder.url })
    mid.revoke(revoked)
  })
  after(async () => {
    await responder.close()
    root.cleanup()
  })

  test('a good response is fetched, stapled, and verifies with openssl', async () => {
    const { store, tls } = storeFor(good)
    const listener = await serveTls(tls)
    try {
      await waitFor('a staple', () => tls.ocspResponse?.(new X509Certificate(good.certPem).raw, Buffer.alloc(0)), 5000)
      const seen = await handshake(listener.port, { servername: 'good.test', ca: root.certPem, requestOCSP: true })
      assert.ok(seen.ocsp, 'the handshake carries a stapled response')
      const file = join(root.dir, 'stapled.der')
      writeFileSync(file, seen.ocsp)
      const out = execFileSync(
        'openssl',
        ['ocsp', '-respin', file, '-issuer', mid.certPath, '-cert', good.certPath, '-CAfile', root.certPath, '-no_nonce'],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      ).toString()
      assert.match(out, /: good/)
      assert.deepEqual(await ocspStatusMetric(), { good: 1, revoked: 0, unknown: 0, unavailable: 0 })
      // Without status_request the client gets nothing extra.
      assert.equal((await handshake(listener.port, { servername: 'good.test', ca: root.certPem })).ocsp, undefined)
    } finally {
      store.close()
      await listener.close()
    }
  })

  test('a revoked certificate is logged as an error, exposed in the metric and not stapled', async () => {
    const { logger, lines } = recordingLogger()
    const { store, tls } = storeFor(revoked, '', logger)
    const listener = await serveTls(tls)
    try {
      await waitFor('revocation logged', () => lines.some((l) => l.level === 50 && /REVOKED/.test(l.msg)), 5000)
      assert.equal((await ocspStatusMetric()).revoked, 1)
      const seen = await handshake(listener.port, { servername: 'revoked.test', ca: root.certPem, requestOCSP: true })
      assert.equal(seen.ocsp, undefined)
    } finally {
      store.close()
      await listener.close()
    }
  })

  test('a responder that is down: no staple, one log line, stapling resumes when it is back', async () => {
    const port = await freePort()
    const offline = mid.issue({ dns: ['offline.test'], ocspUrl: `http://127.0.0.1:${port}/` })
    const { logger, lines } = recordingLogger()
    const { store, tls } = storeFor(offline, '', logger)
    const listener = await serveTls(tls)
    let back: TestOcspResponder | undefined
    try {
      await waitFor('unavailable', async () => (await ocspStatusMetric()).unavailable === 1, 5000)
      await new Promise((resolve) => setTimeout(resolve, 500)) // several retries
      assert.equal(lines.filter((l) => /OCSP: fetch failed/.test(l.msg)).length, 1, 'logged once')
      const seen = await handshake(listener.port, { servername: 'offline.test', ca: root.certPem, requestOCSP: true })
      assert.equal(seen.ocsp, undefined)
      back = await startOcspResponder(mid, { port })
      await waitFor(
        'stapled after recovery',
        async () => (await handshake(listener.port, { servername: 'offline.test', ca: root.certPem, requestOCSP: true })).ocsp,
        5000,
      )
    } finally {
      store.close()
      await listener.close()
      await back?.close()
    }
  })

  test('ocsp_stapling = false fetches and staples nothing', async () => {
    const before = responder.requests
    const { store, tls } = storeFor(good, 'ocsp_stapling = false')
    const listener = await serveTls(tls)
    try {
      await new Promise((resolve) => setTimeout(resolve, 300))
      assert.equal(responder.requests, before)
      assert.equal((await handshake(listener.port, { servername: 'good.test', ca: root.certPem, requestOCSP: true })).ocsp, undefined)
    } finally {
      store.close()
      await listener.close()
    }
  })
})

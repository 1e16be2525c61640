// Certificate expiry: the fleetgate_tls_certificate_expiry_seconds gauge, warnings days ahead
// and an error once expired.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { createTestCa, type TestCa } from '@fleetgate/testkit'
import { Registry } from 'prom-client'
import { createCertificateStore } from '../../src/tls/certificate-store.ts'
import { EXPIRY_WARNING_DAYS, expiryState, logExpiry } from '../../src/tls/expiry-check.ts'
import { registerTlsMetrics } from '../../src/tls/tls-metrics.ts'
import { recordingLogger, tomlConfig } from './tls-fixture.ts'

const DAY = 86_400_000
let ca: TestCa

describe('certificate expiry', () => {
  before(() => {
    ca = createTestCa()
  })
  after(() => ca.cleanup())

  test('expiryState by time left', () => {
    const notAfter = new Date('2030-01-31T00:00:00Z')
    const cases: [number, string][] = [
      [notAfter.getTime() - 30 * DAY, 'ok'],
      [notAfter.getTime() - (EXPIRY_WARNING_DAYS + 1) * DAY, 'ok'],
      [notAfter.getTime() - EXPIRY_WARNING_DAYS * DAY, 'expiring'],
      [notAfter.getTime() - 1000, 'expiring'],
      [notAfter.getTime(), 'expired'],
      [notAfter.getTime() + DAY, 'expired'],
    ]
    for (const [now, state] of cases) assert.equal(expiryState(notAfter, now), state, new Date(now).toISOString())
  })

  test('an expired certificate is logged as an error, an expiring one as a warning', () => {
    const { logger, lines } = recordingLogger()
    const notAfter = new Date('2030-01-31T00:00:00Z')
    logExpiry(logger, 'x', notAfter, notAfter.getTime() + 1)
    logExpiry(logger, 'y', notAfter, notAfter.getTime() - 3 * DAY)
    logExpiry(logger, 'z', notAfter, notAfter.getTime() - 60 * DAY)
    assert.deepEqual(
      lines.map((l) => [l.level, l.certificate]),
      [
        [50, 'x'],
        [40, 'y'],
      ],
    )
    assert.match(lines[1]?.msg ?? '', /expires in 3 days/)
  })

  test('a live store exposes seconds until notAfter per certificate and warns at start', async () => {
    const registry = new Registry()
    registerTlsMetrics(registry)
    const soon = ca.issue({ dns: ['soon.test'], days: 2 })
    const later = ca.issue({ dns: ['later.test'], days: 60 })
    const toml = `[upstreams.u]\naddrs = ["127.0.0.1:1"]\n[locations.l]\nupstream = "u"\n[certificates.soon]\ndomains = ["soon.test"]\ntls_cert = "${soon.certPath}"\ntls_key = "${soon.keyPath}"\n[servers.s]\naddr = "127.0.0.1:0"\nlocations = ["l"]\ncertificates = ["soon"]\ntls_cert = "${later.certPath}"\ntls_key = "${later.keyPath}"\n`
    const { logger, lines } = recordingLogger()
    const store = createCertificateStore(tomlConfig(toml), undefined, logger)
    const values = async () => {
      const metric = await registry.getSingleMetric('fleetgate_tls_certificate_expiry_seconds')?.get()
      return new Map((metric?.values ?? []).map((v) => [v.labels.certificate, v.value]))
    }
    assert.equal((await values()).size, 0, 'nothing before start')
    store.start()
    try {
      const seen = await values()
      assert.ok(Math.abs((seen.get('soon') ?? 0) - 2 * 86_400) < 120, `soon: ${seen.get('soon')}`)
      assert.ok(Math.abs((seen.get('servers.s') ?? 0) - 60 * 86_400) < 120, `servers.s: ${seen.get('servers.s')}`)
      assert.deepEqual(
        lines.filter((l) => l.level === 40).map((l) => l.certificate),
        ['soon'],
      )
    } finally {
      store.close()
    }
    assert.equal((await values()).size, 0, 'gone after close')
  })
})

import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { createTestCa } from '@fleetgate/testkit'
import { type CertificateEntry, certificateNeed } from '../../src/acme/certificate-need.ts'

const ca = createTestCa('acme-need-ca')
after(() => ca.cleanup())

const longLived = ca.issue({ dns: ['shop.example.test', 'www.example.test'], days: 90 })
const shortLived = ca.issue({ dns: ['shop.example.test'], days: 1 })
const onPath = join(ca.dir, 'on-path.pem')
writeFileSync(onPath, longLived.certPem)

const cases: Array<{ name: string; cert: CertificateEntry; reason: string | undefined }> = [
  { name: 'no certificate yet', cert: { domains: ['shop.example.test'] }, reason: 'missing' },
  { name: 'a certificate without its key', cert: { domains: ['shop.example.test'], tls_cert: longLived.certPem }, reason: 'missing' },
  {
    name: 'garbage PEM',
    cert: { domains: ['a.test'], tls_cert: '-----BEGIN CERTIFICATE-----\nnope\n', tls_key: 'k' },
    reason: 'unreadable',
  },
  {
    name: 'a path that does not exist',
    cert: { domains: ['a.test'], tls_cert: '/nonexistent/cert.pem', tls_key: 'k' },
    reason: 'unreadable',
  },
  {
    name: 'expiring within the default 30 days',
    cert: { domains: ['shop.example.test'], tls_cert: shortLived.certPem, tls_key: shortLived.keyPem },
    reason: 'expiring',
  },
  {
    name: 'valid for 90 days and covering every domain',
    cert: { domains: ['shop.example.test', 'WWW.example.test'], tls_cert: longLived.certPem, tls_key: longLived.keyPem },
    reason: undefined,
  },
  {
    name: 'a certificate read from a path',
    cert: { domains: ['shop.example.test'], tls_cert: onPath, tls_key: longLived.keyPem },
    reason: undefined,
  },
  {
    name: 'a domain the certificate does not cover',
    cert: { domains: ['shop.example.test', 'new.example.test'], tls_cert: longLived.certPem, tls_key: longLived.keyPem },
    reason: 'domains',
  },
  {
    name: 'a renew window longer than the remaining validity',
    cert: { domains: ['shop.example.test'], tls_cert: longLived.certPem, tls_key: longLived.keyPem, acme_renew_before: '2400h' },
    reason: 'expiring',
  },
  {
    name: 'a renew window shorter than the remaining validity',
    cert: { domains: ['shop.example.test'], tls_cert: shortLived.certPem, tls_key: shortLived.keyPem, acme_renew_before: '1h' },
    reason: undefined,
  },
]

for (const c of cases) {
  test(`certificateNeed: ${c.name} -> ${c.reason ?? 'nothing to do'}`, () => {
    assert.equal(certificateNeed(c.cert)?.reason, c.reason)
  })
}

test('certificateNeed reports the expiry of an expiring certificate', () => {
  const need = certificateNeed({ domains: ['shop.example.test'], tls_cert: shortLived.certPem, tls_key: shortLived.keyPem })
  const left = (need?.notAfter?.getTime() ?? 0) - Date.now()
  assert.ok(left > 0 && left <= 86_400_000 + 60_000, `notAfter ${need?.notAfter?.toISOString()}`)
})

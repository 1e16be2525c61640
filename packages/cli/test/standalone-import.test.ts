import assert from 'node:assert/strict'
import { test } from 'node:test'
import { keepIssuedCertificates } from '../src/standalone-import.ts'

const issued = { domains: ['shop.test'], acme: 'lets_encrypt', tls_cert: 'CERT', tls_key: 'KEY' }

test('a re-imported file keeps the certificate ACME issued for the same directory and domains', () => {
  const next = { certificates: { shop: { domains: ['shop.test'], acme: 'lets_encrypt' } } }
  assert.deepEqual(keepIssuedCertificates(next, { certificates: { shop: issued } }), ['shop'])
  assert.equal((next.certificates.shop as Record<string, unknown>).tls_cert, 'CERT')
  assert.equal((next.certificates.shop as Record<string, unknown>).tls_key, 'KEY')
})

test('changed domains, another directory, or PEM in the file itself take nothing from the store', () => {
  const cases = [
    { domains: ['other.test'], acme: 'lets_encrypt' },
    { domains: ['shop.test'], acme: 'https://acme.example/dir' },
    { domains: ['shop.test'], acme: 'lets_encrypt', tls_cert: 'FILE', tls_key: 'FILEKEY' },
  ]
  for (const cert of cases) {
    const next = { certificates: { shop: { ...cert } } }
    assert.deepEqual(keepIssuedCertificates(next, { certificates: { shop: issued } }), [], JSON.stringify(cert))
    assert.notEqual((next.certificates.shop as Record<string, unknown>).tls_cert, 'CERT')
  }
})

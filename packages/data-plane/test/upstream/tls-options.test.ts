// Upstream TLS settings: client certificate pairs are checked when the config is compiled.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { ConfigValidationError } from '@fleetgate/schema'
import { createTestCa, type TestCa, type TestCert } from '@fleetgate/testkit'
import { resolveUpstreamTls, tlsConnectOptions } from '../../src/upstream/tls-options.ts'
import { upstreamConfig } from './upstream-config.ts'

let ca: TestCa
let one: TestCert
let two: TestCert

describe('upstream TLS options', () => {
  before(() => {
    ca = createTestCa()
    one = ca.issue({ dns: [], usage: 'client' })
    two = ca.issue({ dns: [], usage: 'client' })
  })
  after(() => ca.cleanup())

  test('a client certificate pair is passed to connections', () => {
    const tls = resolveUpstreamTls(upstreamConfig({ tls: true, tls_cert: one.certPath, tls_key: one.keyPath }), 'upstreams.api')
    const options = tlsConnectOptions(tls, 'backend.test')
    assert.equal(options.cert, one.certPem)
    assert.equal(options.key, one.keyPem)
    assert.equal(options.servername, 'backend.test')
    assert.equal(tlsConnectOptions(tls, '127.0.0.1').servername, undefined)
  })

  test('bad pairs are config errors naming the key', () => {
    const cases: [Parameters<typeof upstreamConfig>[0], string, RegExp][] = [
      [{ tls_cert: one.certPath }, 'upstreams.api.tls_key', /go together/],
      [{ tls_cert: one.certPath, tls_key: two.keyPath }, 'upstreams.api.tls_key', /does not match/],
      [{ tls_cert: `${ca.dir}/missing.pem`, tls_key: one.keyPath }, 'upstreams.api.tls_cert', /ENOENT/],
      [{ ca: `${ca.dir}/missing.pem` }, 'upstreams.api.ca', /ENOENT/],
    ]
    for (const [overrides, path, message] of cases) {
      assert.throws(
        () => resolveUpstreamTls(upstreamConfig({ tls: true, ...overrides }), 'upstreams.api'),
        (err: unknown) => err instanceof ConfigValidationError && err.errors[0]?.path === path && message.test(err.message),
        path,
      )
    }
  })
})

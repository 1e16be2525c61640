// The certificate store: SNI selection among certificates on a real TLS server, defaults,
// TLS versions and config errors that name their key.
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { ConfigValidationError } from '@fleetgate/schema'
import { createTestCa, type TestCa, type TestCert } from '@fleetgate/testkit'
import { createCertificateStore, storeCertificates } from '../../src/tls/certificate-store.ts'
import type { CertificateStore } from '../../src/tls/types.ts'
import { handshake, recordingLogger, serveTls, tomlConfig } from './tls-fixture.ts'

let ca: TestCa
const certs: Record<string, TestCert> = {}
const stores: CertificateStore[] = []

const server = (extra: string) =>
  `[upstreams.u]\naddrs = ["127.0.0.1:1"]\n[locations.l]\nupstream = "u"\n[servers.s]\naddr = "127.0.0.1:0"\nlocations = ["l"]\n${extra}\n`
const certificate = (name: string, c: TestCert, domains: string[], extra = '') =>
  `[certificates.${name}]\ndomains = ${JSON.stringify(domains)}\ntls_cert = "${c.certPath}"\ntls_key = "${c.keyPath}"\n${extra}\n`

function storeFor(toml: string, logger = recordingLogger().logger): CertificateStore {
  const store = createCertificateStore(tomlConfig(toml), undefined, logger)
  stores.push(store)
  return store
}

function configErrorOf(fn: () => unknown): { path: string; message: string } {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof ConfigValidationError, `expected a ConfigValidationError, got ${err}`)
    return err.errors[0] as { path: string; message: string }
  }
  assert.fail('expected a config error')
}

describe('certificate store', () => {
  before(() => {
    ca = createTestCa()
    certs.a = ca.issue({ dns: ['a.test'] })
    certs.b = ca.issue({ dns: ['b.test', 'www.b.test'] })
    certs.wild = ca.issue({ dns: ['*.wild.test'] })
    certs.fallback = ca.issue({ dns: ['fallback.test'] })
    certs.own = ca.issue({ dns: ['own.test'] })
  })
  after(() => {
    for (const store of stores) store.close()
    ca.cleanup()
  })

  const threeCerts = () =>
    certificate('a', certs.a as TestCert, ['a.test']) +
    certificate('b', certs.b as TestCert, ['b.test', 'www.b.test']) +
    certificate('wild', certs.wild as TestCert, ['*.wild.test'])

  test('SNI picks the exact certificate among three, over a real handshake', async () => {
    const store = storeFor(server('certificates = ["a", "b", "wild"]') + threeCerts())
    const tls = store.forServer('s')
    assert.ok(tls)
    const listener = await serveTls(tls)
    try {
      for (const [name, cn] of [
        ['a.test', 'a.test'],
        ['b.test', 'b.test'],
        ['WWW.B.TEST', 'b.test'],
        ['x.wild.test', '*.wild.test'],
      ]) {
        const seen = await handshake(listener.port, { servername: name, ca: ca.certPem })
        assert.equal(seen.cn, cn, `SNI ${name}`)
        assert.equal(seen.body, 'ok anonymous')
      }
    } finally {
      await listener.close()
    }
  })

  test('a wildcard matches exactly one label', () => {
    const tls = storeFor(server('certificates = ["a", "b", "wild"]') + threeCerts()).forServer('s')
    assert.ok(tls?.contextFor('x.wild.test'))
    assert.equal(tls?.contextFor('wild.test'), undefined)
    assert.equal(tls?.contextFor('a.b.wild.test'), undefined)
  })

  test('an unknown name with no default has no context and the handshake fails cleanly', async () => {
    const tls = storeFor(server('certificates = ["a", "b", "wild"]') + threeCerts()).forServer('s')
    assert.ok(tls)
    assert.equal(tls.contextFor('nope.test'), undefined)
    assert.equal(tls.contextFor(undefined), undefined)
    assert.equal(tls.defaultContextOptions?.(), undefined)
    const listener = await serveTls(tls)
    try {
      await assert.rejects(handshake(listener.port, { servername: 'nope.test', ca: ca.certPem }))
      // The server is still fine afterwards.
      assert.equal((await handshake(listener.port, { servername: 'a.test', ca: ca.certPem })).cn, 'a.test')
    } finally {
      await listener.close()
    }
  })

  test('is_default serves unknown names and clients without SNI', async () => {
    const toml =
      server('global_certificates = true') +
      threeCerts() +
      certificate('fallback', certs.fallback as TestCert, ['fallback.test'], 'is_default = true')
    const tls = storeFor(toml).forServer('s')
    assert.ok(tls)
    const listener = await serveTls(tls)
    try {
      assert.equal((await handshake(listener.port, { servername: 'other.test' })).cn, 'fallback.test')
      assert.equal((await handshake(listener.port, {})).cn, 'fallback.test')
      assert.equal((await handshake(listener.port, { servername: 'b.test', ca: ca.certPem })).cn, 'b.test')
    } finally {
      await listener.close()
    }
  })

  test("the server's own tls_cert is the default when no certificate is", async () => {
    const own = certs.own as TestCert
    const tls = storeFor(server(`certificates = ["a"]\ntls_cert = "${own.certPath}"\ntls_key = "${own.keyPath}"`) + threeCerts()).forServer(
      's',
    )
    assert.ok(tls)
    const listener = await serveTls(tls)
    try {
      assert.equal((await handshake(listener.port, { servername: 'zzz.test' })).cn, 'own.test')
      assert.equal((await handshake(listener.port, { servername: 'a.test' })).cn, 'a.test')
    } finally {
      await listener.close()
    }
  })

  test('inline PEM works like a path', () => {
    const a = certs.a as TestCert
    const tls = storeFor(server(`tls_cert = """\n${a.certPem}"""\ntls_key = """\n${a.keyPem}"""`)).forServer('s')
    assert.ok(tls?.contextFor('anything'))
  })

  test('a plain server has no TLS', () => {
    assert.equal(storeFor(server('') + threeCerts()).forServer('s'), undefined)
  })

  test('tls_min_version = "1.3" refuses a TLS 1.2 client; the default accepts it', async () => {
    const a = certs.a as TestCert
    const pair = `tls_cert = "${a.certPath}"\ntls_key = "${a.keyPath}"`
    const strict = await serveTls(
      storeFor(server(`${pair}\ntls_min_version = "1.3"`)).forServer('s') as NonNullable<ReturnType<CertificateStore['forServer']>>,
    )
    const lax = await serveTls(storeFor(server(pair)).forServer('s') as NonNullable<ReturnType<CertificateStore['forServer']>>)
    try {
      await assert.rejects(handshake(strict.port, { maxVersion: 'TLSv1.2' }))
      assert.equal((await handshake(strict.port, {})).protocol, 'TLSv1.3')
      assert.equal((await handshake(lax.port, { maxVersion: 'TLSv1.2' })).protocol, 'TLSv1.2')
    } finally {
      await strict.close()
      await lax.close()
    }
  })

  test('tls_max_version and tls_ciphers shape the handshake', async () => {
    const a = certs.a as TestCert
    const toml = server(
      `tls_cert = "${a.certPath}"\ntls_key = "${a.keyPath}"\ntls_max_version = "1.2"\ntls_ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256"`,
    )
    const listener = await serveTls(storeFor(toml).forServer('s') as NonNullable<ReturnType<CertificateStore['forServer']>>)
    try {
      const seen = await handshake(listener.port, {})
      assert.equal(seen.protocol, 'TLSv1.2')
    } finally {
      await listener.close()
    }
  })

  test('config errors name their key', () => {
    const a = certs.a as TestCert
    const b = certs.b as TestCert
    const bad = join(ca.dir, 'bad.pem')
    writeFileSync(bad, '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n')
    const cases: [string, string, RegExp][] = [
      [certificate('x', { ...a, certPath: bad }, ['a.test']) + server('certificates = ["x"]'), 'certificates.x.tls_cert', /does not parse/],
      [
        certificate('x', { ...a, certPath: join(ca.dir, 'missing.pem') }, ['a.test']) + server('certificates = ["x"]'),
        'certificates.x.tls_cert',
        /ENOENT/,
      ],
      [
        certificate('x', { ...a, keyPath: b.keyPath }, ['a.test']) + server('certificates = ["x"]'),
        'certificates.x.tls_key',
        /does not match/,
      ],
      [
        certificate('x', { ...a, keyPath: a.certPath }, ['a.test']) + server('certificates = ["x"]'),
        'certificates.x.tls_key',
        /does not parse/,
      ],
      [server(`tls_cert = "${a.certPath}"\ntls_key = "${a.keyPath}"\ntls_ciphers = "NO-SUCH-CIPHER"`), 'servers.s.tls_ciphers', /cipher/],
      [server(`tls_cert = "${a.certPath}"\ntls_key = "${a.keyPath}"\ntls_client_auth = "required"`), 'servers.s.tls_client_ca', /required/],
      [
        server(`tls_cert = "${a.certPath}"\ntls_key = "${a.keyPath}"\ntls_min_version = "1.3"\ntls_max_version = "1.2"`),
        'servers.s.tls_max_version',
        /older/,
      ],
      [`[certificates.x]\ndomains = ["a.test"]\n${server('certificates = ["x"]')}`, 'certificates.x.tls_cert', /required/],
    ]
    for (const [toml, path, message] of cases) {
      const error = configErrorOf(() => createCertificateStore(tomlConfig(toml), undefined, recordingLogger().logger))
      assert.equal(error.path, path, toml)
      assert.match(error.message, message)
    }
  })

  test('a server naming an unknown certificate is an error naming the key', () => {
    const config = tomlConfig(server('') + threeCerts())
    const s = config.servers.s as (typeof config.servers)[string]
    s.certificates = ['aa']
    const error = configErrorOf(() => createCertificateStore(config, undefined, recordingLogger().logger))
    assert.equal(error.path, 'servers.s.certificates.0')
    assert.match(error.message, /unknown certificate "aa"/)
  })

  test('an ACME certificate without PEM yet is skipped', () => {
    const toml = `${server('certificates = ["a", "auto"]') + certificate('a', certs.a as TestCert, ['a.test'])}[certificates.auto]\ndomains = ["auto.test"]\nacme = "lets_encrypt"\n`
    const tls = storeFor(toml).forServer('s')
    assert.ok(tls?.contextFor('a.test'))
    assert.equal(tls?.contextFor('auto.test'), undefined)
  })

  test('a configured domain missing from the SAN is warned about, not refused', () => {
    const { logger, lines } = recordingLogger()
    const tls = storeFor(
      server('certificates = ["a"]') + certificate('a', certs.a as TestCert, ['a.test', 'other.test']),
      logger,
    ).forServer('s')
    assert.ok(tls?.contextFor('other.test'))
    const warning = lines.find((l) => l.level === 40 && /subjectAltName/.test(l.msg))
    assert.ok(warning, JSON.stringify(lines))
    assert.deepEqual(warning.domains, ['other.test'])
  })

  test('a chain in tls_chain is sent after the leaf', async () => {
    const mid = ca.intermediate('mid-ca')
    const leaf = mid.issue({ dns: ['chain.test'] })
    const toml = server('certificates = ["c"]') + certificate('c', leaf, ['chain.test'], `tls_chain = "${mid.certPath}"`)
    const noChain = server('certificates = ["c"]') + certificate('c', leaf, ['chain.test'])
    const withChain = await serveTls(storeFor(toml).forServer('s') as NonNullable<ReturnType<CertificateStore['forServer']>>)
    const without = await serveTls(storeFor(noChain).forServer('s') as NonNullable<ReturnType<CertificateStore['forServer']>>)
    try {
      assert.equal((await handshake(withChain.port, { servername: 'chain.test', ca: ca.certPem })).cn, 'chain.test')
      await assert.rejects(handshake(without.port, { servername: 'chain.test', ca: ca.certPem }), /unable to (get|verify)/)
    } finally {
      await withChain.close()
      await without.close()
    }
  })

  test('an unchanged TLS config returns the same store; a changed one reuses unchanged certificates', () => {
    const toml = server('certificates = ["a", "b"]') + threeCerts()
    const first = storeFor(toml)
    const contextA = first.forServer('s')?.contextFor('a.test')
    assert.equal(createCertificateStore(tomlConfig(`${toml}\n[basic]\nname = "renamed"\n`), first, recordingLogger().logger), first)
    const second = createCertificateStore(
      tomlConfig(server('certificates = ["a", "wild"]') + threeCerts()),
      first,
      recordingLogger().logger,
    )
    stores.push(second)
    assert.notEqual(second, first)
    assert.notEqual(second.hash, first.hash)
    assert.equal(second.forServer('s')?.contextFor('a.test'), contextA)
    assert.ok(second.forServer('s')?.contextFor('x.wild.test'))
    assert.equal(second.forServer('s')?.contextFor('b.test'), undefined)
  })

  test('a certificate keeps contexts only for the profiles a started store serves', () => {
    const logger = recordingLogger().logger
    const profilesOfA = (store: CertificateStore) => {
      const held = storeCertificates(store)
      assert.equal(held.length, 1, 'the store holds certificate a only')
      return (held[0] as (typeof held)[number]).profileKeys().length
    }
    const caFile = join(ca.dir, 'rotating-ca.pem')
    writeFileSync(caFile, ca.certPem)
    const toml = (min: string) =>
      server(`certificates = ["a"]\ntls_min_version = "${min}"\ntls_client_auth = "optional"\ntls_client_ca = "${caFile}"`) +
      certificate('a', certs.a as TestCert, ['a.test'])
    const first = createCertificateStore(tomlConfig(toml('1.2')), undefined, logger)
    first.start()
    assert.equal(profilesOfA(first), 1)

    // A TLS settings change: the next store starts, the old one closes, its profile goes.
    const second = createCertificateStore(tomlConfig(toml('1.3')), first, logger)
    second.start()
    first.close()
    stores.push(second)
    assert.equal(profilesOfA(second), 1)
    assert.equal(first.forServer('s')?.contextFor('a.test'), undefined, "the closed store's context is gone")
    assert.ok(second.forServer('s')?.contextFor('a.test'))

    // A client CA rotated on disk: the old CA's context goes, handshakes get the new one.
    const before = second.forServer('s')?.contextFor('a.test')
    const rotatedIn = createTestCa('rotated-in')
    writeFileSync(caFile, `${ca.certPem}\n${rotatedIn.certPem}`)
    rotatedIn.cleanup()
    assert.equal(createCertificateStore(tomlConfig(toml('1.3')), second, logger), second)
    assert.equal(profilesOfA(second), 1)
    assert.notEqual(second.forServer('s')?.contextFor('a.test'), before)

    // A config that fails after preparing a new profile leaves nothing behind.
    const broken = `${toml('1.2')}[servers.t]\naddr = "127.0.0.1:0"\nlocations = ["l"]\ncertificates = ["nope"]\n`
    assert.throws(() => createCertificateStore(tomlConfig(broken), second, logger), ConfigValidationError)
    assert.equal(profilesOfA(second), 1)
  })
})

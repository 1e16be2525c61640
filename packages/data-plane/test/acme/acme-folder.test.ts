import assert from 'node:assert/strict'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { loadConfigText } from '@fleetgate/schema'
import { createTestCa } from '@fleetgate/testkit'
import { openAcmeFolder, overlayIssued } from '../../src/acme/acme-folder.ts'

const ca = createTestCa('acme-folder-ca')
const dirs: string[] = []
after(async () => {
  ca.cleanup()
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
})

async function folder() {
  const dir = await mkdtemp(join(tmpdir(), 'fleetgate-acme-folder-'))
  dirs.push(dir)
  return openAcmeFolder(join(dir, 'acme'))
}

test('issued certificates and account keys are written with mode 0600 in a 0700 folder', async () => {
  const f = await folder()
  const leaf = ca.issue({ dns: ['a.example.test'] })
  await f.writeIssued('site', { cert: leaf.certPem, key: leaf.keyPem })
  const key = await f.accountKey('https://acme.example.test/dir')
  for (const path of ['certificates/site.crt', 'certificates/site.key', 'accounts']) {
    const s = await stat(join(f.dir, path))
    assert.equal(s.mode & 0o777, s.isDirectory() ? 0o700 : 0o600, path)
  }
  assert.deepEqual(await f.readIssued('site'), { cert: leaf.certPem, key: leaf.keyPem })
  assert.match(key, /BEGIN PRIVATE KEY/)
  assert.equal(await f.accountKey('https://acme.example.test/dir'), key, 'the same directory keeps its account key')
  assert.notEqual(await f.accountKey('https://other.example.test/dir'), key, 'another directory gets its own account')
})

test('a certificate whose key file does not match is not used', async () => {
  const f = await folder()
  const a = ca.issue({ dns: ['a.example.test'] })
  const b = ca.issue({ dns: ['b.example.test'] })
  await f.writeIssued('site', { cert: a.certPem, key: a.keyPem })
  await writeFile(join(f.dir, 'certificates/site.key'), b.keyPem)
  assert.equal(await f.readIssued('site'), undefined)
  assert.equal(await f.readIssued('absent'), undefined)
})

test('the overlay serves issued certificates for ACME entries only and keeps every other key', async () => {
  const f = await folder()
  const leaf = ca.issue({ dns: ['a.example.test'] })
  await f.writeIssued('auto', { cert: leaf.certPem, key: leaf.keyPem })
  await f.writeIssued('manual', { cert: leaf.certPem, key: leaf.keyPem })
  const loaded = loadConfigText(`
[certificates.auto]
domains = ["a.example.test"]
acme = "https://acme.example.test/dir"
is_default = true

[certificates.manual]
domains = ["m.example.test"]
tls_cert = "/etc/m.pem"
tls_key = "/etc/m.key"
`)
  assert.ok(loaded.ok)
  const config = await overlayIssued(loaded.config, f)
  assert.equal(config.certificates.auto?.tls_cert, leaf.certPem)
  assert.equal(config.certificates.auto?.tls_key, leaf.keyPem)
  assert.equal(config.certificates.auto?.is_default, true)
  assert.equal(config.certificates.manual?.tls_cert, '/etc/m.pem', 'a certificate without acme is left alone')
  assert.equal(loaded.config.certificates.auto?.tls_cert, undefined, 'the loaded config is not changed')
})

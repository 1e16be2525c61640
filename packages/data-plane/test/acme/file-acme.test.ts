// File mode's ACME: issued certificates in a folder, renewal decisions, and retries with backoff, all
// against a real pebble validating HTTP-01 on loopback.
import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { type Config, loadConfigText } from '@fleetgate/schema'
import { createTestCa, startPebble, type TestCa, type TestPebble, waitFor } from '@fleetgate/testkit'
import { openAcmeFolder } from '../../src/acme/acme-folder.ts'
import { type FileAcme, startFileAcme } from '../../src/acme/file-acme.ts'
import { capturedLogger } from './acme-log.ts'
import { startChallengeServer } from './challenge-server.ts'

let dir: string
let ca: TestCa
let pebble: TestPebble
let server: Awaited<ReturnType<typeof startChallengeServer>>
const running: FileAcme[] = []

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleetgate-acme-file-'))
  ca = createTestCa('acme-renewal-ca')
  server = await startChallengeServer()
  pebble = await startPebble({ httpPort: server.port })
})
after(async () => {
  for (const acme of running) await acme.stop()
  await pebble?.stop()
  await server?.close()
  ca?.cleanup()
  await rm(dir, { recursive: true, force: true })
})

function config(toml: string): Config {
  const loaded = loadConfigText(toml)
  assert.ok(loaded.ok, JSON.stringify(loaded))
  return loaded.config
}

function start(name: string, loaded: Config, extra: { firstRetryMs?: number } = {}) {
  const log = capturedLogger()
  let issued = 0
  const acme = startFileAcme({
    logger: log.logger,
    caFile: pebble.caFile,
    dir: join(dir, name),
    loaded: () => loaded,
    onIssued: () => issued++,
    ...extra,
  })
  running.push(acme)
  server.setAnswer(acme.lookup)
  return { acme, log, issued: () => issued }
}

test('a certificate expiring within the renew window is re-ordered; one that is not is left alone', async () => {
  const expiring = ca.issue({ dns: ['old.example.test'], days: 2 })
  const fresh = ca.issue({ dns: ['fresh.example.test'], days: 90 })
  const toml = `
[certificates.old]
domains = ["old.example.test"]
acme = "${pebble.directoryUrl}"
tls_cert = """${expiring.certPem}"""
tls_key = """${expiring.keyPem}"""

[certificates.fresh]
domains = ["fresh.example.test"]
acme = "${pebble.directoryUrl}"
tls_cert = """${fresh.certPem}"""
tls_key = """${fresh.keyPem}"""
`
  const loaded = config(toml)
  const { acme, log, issued } = start('renewal', loaded)
  const before = pebble.issuedCount()
  acme.check(await acme.overlay(loaded))
  await acme.idle()
  assert.deepEqual(log.messages('ACME order failed'), [])
  assert.equal(pebble.issuedCount() - before, 1, 'exactly one certificate issued')
  assert.equal(issued(), 1, 'the proxy was asked to reload once')
  const started = log.messages('ACME order started')
  assert.deepEqual(
    started.map((m) => [m.certificate, m.reason]),
    [['old', 'expiring']],
  )
  const overlaid = await acme.overlay(loaded)
  const renewed = new X509Certificate(overlaid.certificates.old?.tls_cert as string)
  assert.match(renewed.issuer, /Pebble/)
  assert.ok(new Date(renewed.validTo).getTime() > Date.now() + 60 * 86_400_000, 'the renewed certificate is long-lived')
  assert.equal(overlaid.certificates.fresh?.tls_cert, fresh.certPem, 'the fresh certificate is untouched')
  assert.equal(await openAcmeFolder(join(dir, 'renewal')).readIssued('fresh'), undefined)

  acme.check(overlaid)
  await acme.idle()
  assert.equal(pebble.issuedCount() - before, 1, 'once renewed, nothing more is ordered')
  for (const line of log.lines) assert.doesNotMatch(line, /PRIVATE KEY/)
})

test('a failed order is logged with its reason and retried with backoff until it succeeds', async () => {
  const loaded = config(`[certificates.flaky]\ndomains = ["flaky.example.test"]\nacme = "${pebble.directoryUrl}"\n`)
  const { acme, log } = start('retry', loaded, { firstRetryMs: 300 })
  server.setAnswer(() => undefined) // nobody answers: pebble's validation fails
  acme.check(loaded)
  const failures = await waitFor(
    'two failed attempts',
    () => (log.messages('ACME order failed').length >= 2 ? log.messages('ACME order failed') : undefined),
    30_000,
  )
  assert.equal(failures[0]?.certificate, 'flaky')
  assert.match(String(failures[0]?.reason), /404|unauthorized|invalid/i)
  assert.deepEqual(
    failures.slice(0, 2).map((f) => f.retryInMs),
    [300, 600],
    'the retry delay doubles',
  )
  server.setAnswer(acme.lookup)
  await waitFor('a retry succeeds', async () => (await openAcmeFolder(join(dir, 'retry')).readIssued('flaky')) !== undefined, 30_000)
  assert.equal(log.messages('ACME certificate issued').length, 1)
})

test('an ACME certificate with a wildcard name is refused by validation, before any order', () => {
  const loaded = loadConfigText(`[certificates.wild]\ndomains = ["*.example.test"]\nacme = "${pebble.directoryUrl}"\n`)
  assert.equal(loaded.ok, false)
  const errors = (loaded as { errors: Array<{ path: string; message: string }> }).errors
  assert.deepEqual(
    errors.map((e) => e.path),
    ['certificates.wild.domains.0'],
  )
  assert.match(errors[0]?.message ?? '', /wildcard names cannot be ordered with HTTP-01/)
})

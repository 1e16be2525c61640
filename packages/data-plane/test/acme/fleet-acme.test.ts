// ACME coordinated through the store (a local store here; etcd in test/e2e/acme), ordering from a real
// pebble that validates HTTP-01 against a real HTTP server on loopback.
import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { type Config, decodeResource, loadConfigText } from '@fleetgate/schema'
import { createLocalStore, type Store } from '@fleetgate/store'
import { startPebble, type TestPebble } from '@fleetgate/testkit'
import { startFleetAcme } from '../../src/acme/fleet-acme.ts'
import { accountKeyKey } from '../../src/acme/fleet-acme-backend.ts'
import type { NodeAcme } from '../../src/acme/node-acme.ts'
import { CHALLENGES_PREFIX } from '../../src/acme/store-challenges.ts'
import { capturedLogger } from './acme-log.ts'
import { startChallengeServer } from './challenge-server.ts'

let dir: string
let store: Store
let pebble: TestPebble
let server: Awaited<ReturnType<typeof startChallengeServer>>
const running: NodeAcme[] = []

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleetgate-acme-fleet-'))
  store = await createLocalStore({ dir })
  server = await startChallengeServer()
  pebble = await startPebble({ httpPort: server.port })
})
after(async () => {
  for (const acme of running) await acme.stop()
  await store?.close()
  await pebble?.stop()
  await server?.close()
  await rm(dir, { recursive: true, force: true })
})

function entry(domains: string[]): string {
  return `domains = ${JSON.stringify(domains)}\nacme = "${pebble.directoryUrl}"\nacme_email = "ops@example.test"\nis_default = true\n`
}

async function putCertificate(name: string, domains: string[]): Promise<Config> {
  await store.put(`desired/certificates/${name}`, entry(domains))
  const loaded = loadConfigText(`[certificates.${name}]\n${entry(domains)}`)
  assert.ok(loaded.ok, JSON.stringify(loaded))
  return loaded.config
}

function node(enabled: boolean) {
  const log = capturedLogger()
  const acme = startFleetAcme(store, log.logger, { enabled, caFile: pebble.caFile })
  running.push(acme)
  return { acme, log }
}

async function desired(name: string): Promise<Record<string, unknown>> {
  const stored = await store.get(`desired/certificates/${name}`)
  assert.ok(stored)
  return decodeResource(stored.value.toString('utf8'), 'certificates', name)
}

test('a node that does not order answers the challenge another node published in the store', async () => {
  const config = await putCertificate('site', ['shop.example.test'])
  const orderer = node(true)
  const bystander = node(false)
  server.setAnswer(bystander.acme.lookup)
  const hits = server.hits
  orderer.acme.check(config)
  bystander.acme.check(config)
  await orderer.acme.idle()
  assert.deepEqual(orderer.log.messages('ACME order failed'), [])
  assert.ok(server.hits > hits, 'pebble fetched the challenge from the bystander')
  const saved = await desired('site')
  const cert = new X509Certificate(saved.tls_cert as string)
  assert.match(cert.issuer, /Pebble Intermediate CA/)
  assert.match(cert.subjectAltName ?? '', /DNS:shop\.example\.test/)
  assert.match(saved.tls_key as string, /PRIVATE KEY/)
  assert.equal(saved.acme_email, 'ops@example.test', 'every other key of the resource is kept')
  assert.equal(saved.is_default, true)
  assert.ok(await store.get(accountKeyKey(pebble.directoryUrl)), 'the account key is shared through the store')
  assert.equal((await store.getPrefix(CHALLENGES_PREFIX)).kvs.length, 0, 'challenges are deleted afterwards')
  for (const line of [...orderer.log.lines, ...bystander.log.lines]) assert.doesNotMatch(line, /PRIVATE KEY/)
})

test('two nodes that both see a missing certificate place exactly one order', async () => {
  const config = await putCertificate('pair', ['pair.example.test', 'www.pair.example.test'])
  const first = node(true)
  const second = node(true)
  server.setAnswer((token) => first.acme.lookup(token) ?? second.acme.lookup(token))
  const orders = pebble.orderCount()
  const issued = pebble.issuedCount()
  first.acme.check(config)
  second.acme.check(config)
  await Promise.all([first.acme.idle(), second.acme.idle()])
  assert.equal(pebble.orderCount() - orders, 1, 'one new order at the CA')
  assert.equal(pebble.issuedCount() - issued, 1)
  const started = [...first.log.messages('ACME order started'), ...second.log.messages('ACME order started')]
  assert.equal(started.length, 1)
  const skipped = [
    ...first.log.messages('ACME certificate is already current (renewed elsewhere)'),
    ...second.log.messages('ACME certificate is already current (renewed elsewhere)'),
  ]
  assert.equal(skipped.length, 1, 'the other node re-checked under the lock and stood down')
  const saved = await desired('pair')
  assert.match(new X509Certificate(saved.tls_cert as string).subjectAltName ?? '', /DNS:www\.pair\.example\.test/)
})

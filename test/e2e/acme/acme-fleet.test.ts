// ACME end to end in a fleet: etcd, `fleetgate control-plane` and two `fleetgate proxy --etcd` nodes.
// Both nodes see the missing certificate; exactly one orders it from a real pebble (the order lock in
// etcd), pebble validates HTTP-01 against node1's plain listener (which answers from the challenges the
// fleet shares in etcd, whichever node ordered), and the certificate comes back as a published version
// that both nodes apply.
import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import {
  createTestCa,
  startBackend,
  startFleet,
  startPebble,
  type TestBackend,
  type TestCa,
  type TestFleet,
  type TestPebble,
  waitFor,
} from '@fleetgate/testkit'

let ca: TestCa
let pebble: TestPebble
let backend: TestBackend
let fleet: TestFleet
const previousCa = process.env.FLEETGATE_ACME_CA

const config = () => ({
  upstreams: { app: { addrs: [backend.addr] } },
  locations: { app: { path: '/', upstream: 'app' } },
  servers: { main: { addr: '127.0.0.1:0', locations: ['app'] } },
  certificates: { site: { domains: ['fleet.example.test'], acme: pebble.directoryUrl, acme_email: 'ops@example.test' } },
})

const allOutput = () => [fleet.controlPlane.output(), ...fleet.nodes.map((n) => n.process.output())].join('\n')

describe('ACME in a fleet', { timeout: 120_000 }, () => {
  before(async () => {
    // The nodes must trust pebble's HTTPS before pebble can start (it needs node1's port): make its
    // certificate first and hand the CA to the nodes through FLEETGATE_ACME_CA (the --acme-ca flag).
    ca = createTestCa('pebble-https-ca')
    const https = ca.issue({ dns: ['localhost'], ips: ['127.0.0.1'] })
    process.env.FLEETGATE_ACME_CA = ca.certPath
    backend = await startBackend('app')
    fleet = await startFleet({ nodes: 2 })
    const node1Port = Number(new URL(fleet.nodes[0]?.url as string).port)
    pebble = await startPebble({ httpPort: node1Port, https: { certFile: https.certPath, keyFile: https.keyPath, caFile: ca.certPath } })
  })
  after(async () => {
    if (previousCa === undefined) delete process.env.FLEETGATE_ACME_CA
    else process.env.FLEETGATE_ACME_CA = previousCa
    await fleet?.stop()
    await pebble?.stop()
    await backend?.close()
    ca?.cleanup()
  })

  test('one node orders, the certificate is published as a new version and every node applies it', async () => {
    const put = await fleet.api('PUT', '/config', JSON.stringify(config()))
    assert.equal(put.status, 200, JSON.stringify(put.body))
    const first = put.body.generation as number
    await fleet.waitForGeneration(first)
    const published = await waitFor(
      'the issued certificate published',
      async () => {
        const { body } = await fleet.api('GET', '/publish')
        return body.generation > first ? (body.generation as number) : undefined
      },
      45_000,
      100,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${allOutput()}\n${pebble.process.output()}`)
    })
    await fleet.waitForGeneration(published, 20_000)

    const version = await fleet.api('GET', `/versions/${published}`)
    assert.equal(version.status, 200)
    const site = version.body.config.certificates.site
    const cert = new X509Certificate(site.tls_cert)
    assert.match(cert.issuer, /Pebble Intermediate CA/)
    assert.match(cert.subjectAltName ?? '', /DNS:fleet\.example\.test/)
    assert.equal(site.acme, pebble.directoryUrl, 'the resource keeps its acme keys')
    assert.equal(site.acme_email, 'ops@example.test')
    const resource = await fleet.api('GET', '/certificates/site')
    assert.equal(resource.body.tls_cert, site.tls_cert, 'desired/ holds the same certificate')

    assert.equal(pebble.orderCount(), 1, 'exactly one order reached the CA')
    assert.equal(pebble.issuedCount(), 1)
    const started = fleet.nodes.map(
      (n) =>
        n.process
          .output()
          .split('\n')
          .filter((l) => l.includes('"ACME order started"')).length,
    )
    assert.deepEqual(started.toSorted(), [0, 1], 'one node ordered, the other did not')
    assert.ok(
      pebble.process.output().includes(`validate w/ HTTP: http://fleet.example.test:${new URL(fleet.nodes[0]?.url as string).port}/`),
    )

    const key = (site.tls_key as string).split('\n')[1] as string
    assert.ok(!allOutput().includes(key), 'the private key is in no log')
    assert.doesNotMatch(allOutput(), /PRIVATE KEY/)
  })

  test('later applies do not order again', async () => {
    const { body } = await fleet.api('GET', '/publish')
    const put = await fleet.api('PUT', '/upstreams/app', JSON.stringify({ addrs: [backend.addr], algorithm: 'random' }))
    assert.equal(put.status, 200, JSON.stringify(put.body))
    assert.ok(put.body.generation > body.generation)
    await fleet.waitForGeneration(put.body.generation)
    await new Promise((resolve) => setTimeout(resolve, 500))
    assert.equal(pebble.orderCount(), 1)
    for (const node of fleet.nodes) assert.equal(((await (await fetch(`${node.url}/x`)).json()) as { backend: string }).backend, 'app')
  })
})

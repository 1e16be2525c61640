// Certificate hot reload through the gateway: PEM files replaced under load (atomic rename and
// in-place writes) reach new connections with zero failed requests; a new config version with
// changed inline PEM is served too.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { copyFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { connect } from 'node:tls'
import {
  createTestCa,
  freePort,
  type GatewayProcess,
  startBackend,
  startGateway,
  type TestBackend,
  type TestCa,
  type TestCert,
  waitFor,
} from '@fleetgate/testkit'
import { Agent, request } from 'undici'

let ca: TestCa
let backend: TestBackend
let gateway: GatewayProcess
let port: number
const issued: TestCert[] = []

const config = (pem?: TestCert) => `
[upstreams.app]
addrs = ["${backend.addr}"]

[locations.all]
upstream = "app"

[certificates.live]
domains = ["live.test"]
tls_cert = ${pem === undefined ? `"${join(ca.dir, 'live.pem')}"` : `"""\n${pem.certPem}"""`}
tls_key = ${pem === undefined ? `"${join(ca.dir, 'live.key')}"` : `"""\n${pem.keyPem}"""`}
is_default = true

[servers.tls]
addr = "127.0.0.1:${port}"
locations = ["all"]
certificates = ["live"]
`

async function install(cert: TestCert, how: 'rename' | 'in-place'): Promise<void> {
  if (how === 'in-place') {
    await writeFile(join(ca.dir, 'live.pem'), cert.certPem)
    await writeFile(join(ca.dir, 'live.key'), cert.keyPem)
    return
  }
  await copyFile(cert.certPath, join(ca.dir, 'live.pem.new'))
  await copyFile(cert.keyPath, join(ca.dir, 'live.key.new'))
  await rename(join(ca.dir, 'live.pem.new'), join(ca.dir, 'live.pem'))
  await rename(join(ca.dir, 'live.key.new'), join(ca.dir, 'live.key'))
}

async function servedSerial(servername: string | undefined): Promise<string> {
  const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...(servername ? { servername } : {}) })
  await once(socket, 'secureConnect')
  const serial = socket.getPeerCertificate().serialNumber
  socket.destroy()
  return serial
}

describe('TLS certificate reload through the gateway', () => {
  before(async () => {
    ca = createTestCa()
    for (let i = 0; i < 5; i++) issued.push(ca.issue({ dns: ['live.test'] }))
    backend = await startBackend('app')
    port = await freePort()
    await install(issued[0] as TestCert, 'rename')
    gateway = await startGateway(config())
  })
  after(async () => {
    await gateway?.stop()
    await backend?.close()
    ca?.cleanup()
  })

  test('files replaced under load: zero failed requests, new connections get the new certificate', async () => {
    const keepAlive = new Agent({ connect: { servername: 'live.test', ca: ca.certPem }, connections: 4 })
    const fresh = new Agent({ connect: { servername: 'live.test', ca: ca.certPem }, pipelining: 0 })
    let ok = 0
    const failures: string[] = []
    let running = true
    const loop = async (agent: Agent, reset: boolean) => {
      while (running) {
        try {
          const res = await request(`https://127.0.0.1:${port}/`, { dispatcher: agent, reset, headers: { host: 'live.test' } })
          await res.body.text()
          if (res.statusCode === 200) ok++
          else failures.push(`status ${res.statusCode}`)
        } catch (err) {
          failures.push((err as Error).message)
        }
      }
    }
    const loops = [loop(keepAlive, false), loop(keepAlive, false), loop(fresh, true), loop(fresh, true)]
    try {
      for (const [i, how] of [
        [1, 'rename'],
        [2, 'in-place'],
        [3, 'rename'],
      ] as const) {
        const cert = issued[i] as TestCert
        await install(cert, how)
        await waitFor(`certificate ${i} served (${how})`, async () => (await servedSerial('live.test')) === cert.serial, 10_000)
        const before = ok
        await waitFor('requests keep flowing', () => ok > before + 20, 10_000)
      }
    } finally {
      running = false
      await Promise.all(loops)
      await keepAlive.close()
      await fresh.close()
    }
    assert.deepEqual(failures, [])
    assert.ok(ok > 60, `requests served: ${ok}`)
  })

  // Node serves clients without SNI from the server's default context, not through
  // SNICallback: the listener re-applies contextFor(undefined) on ServerTls.onReload.
  test('clients without SNI get the reloaded default certificate too', async () => {
    const cert = issued[4] as TestCert
    await install(cert, 'rename')
    await waitFor('SNI client sees the new certificate', async () => (await servedSerial('live.test')) === cert.serial, 10_000)
    await waitFor('no-SNI client sees the new certificate', async () => (await servedSerial(undefined)) === cert.serial, 5000)
  })

  test('a new config version with changed inline PEM is served', async () => {
    const cert = issued[2] as TestCert
    await gateway.writeConfig(config(cert))
    await gateway.waitForGeneration(2)
    assert.equal(await servedSerial('live.test'), cert.serial)
    assert.equal(await servedSerial(undefined), cert.serial)
  })
})

// A tls_client_ca bundle replaced on disk while the gateway runs: a CA rotated in is trusted and
// one rotated out is refused, for clients that send SNI and for those that do not (the server's
// default context), with no reload of the config.
import assert from 'node:assert/strict'
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
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
let next: TestCa
let serverCert: TestCert
let client: TestCert
let nextClient: TestCert
let backend: TestBackend
let gateway: GatewayProcess
let port: number
let dir: string
let caFile: string

/** Written whole and renamed into place, as a Kubernetes secret update or a deploy tool does. */
function replaceCaFile(text: string): void {
  writeFileSync(`${caFile}.tmp`, text)
  renameSync(`${caFile}.tmp`, caFile)
}

/** True when the gateway answers 200 to a client holding `identity`; with `sni` false no server name is sent. */
async function served(identity: TestCert, sni: boolean): Promise<boolean> {
  const agent = new Agent({
    connect: {
      ca: ca.certPem,
      cert: identity.certPem,
      key: identity.keyPem,
      ...(sni ? { servername: 'mtls.test' } : { checkServerIdentity: () => undefined }),
    },
  })
  try {
    const res = await request(`https://127.0.0.1:${port}/who`, { dispatcher: agent })
    await res.body.text()
    return res.statusCode === 200
  } catch {
    return false
  } finally {
    await agent.close()
  }
}

describe('tls_client_ca reloaded from disk', () => {
  before(async () => {
    ca = createTestCa('clients-ca')
    next = createTestCa('next-clients-ca')
    serverCert = ca.issue({ dns: ['mtls.test'] })
    client = ca.issue({ dns: [], usage: 'client' })
    nextClient = next.issue({ dns: [], usage: 'client' })
    dir = mkdtempSync(join(tmpdir(), 'fleetgate-client-ca-'))
    caFile = join(dir, 'clients.pem')
    replaceCaFile(ca.certPem)
    backend = await startBackend('app')
    port = await freePort()
    gateway = await startGateway(`
[upstreams.app]
addrs = ["${backend.addr}"]

[locations.all]
upstream = "app"

[servers.mtls]
addr = "127.0.0.1:${port}"
locations = ["all"]
tls_cert = "${serverCert.certPath}"
tls_key = "${serverCert.keyPath}"
tls_client_auth = "required"
tls_client_ca = "${caFile}"
`)
  })
  after(async () => {
    await gateway?.stop()
    await backend?.close()
    ca?.cleanup()
    next?.cleanup()
    rmSync(dir, { recursive: true, force: true })
  })

  test('a CA rotated in is trusted and one rotated out refused, with and without SNI', async () => {
    for (const sni of [true, false]) {
      assert.equal(await served(client, sni), true, `sni=${sni}: the configured CA`)
      assert.equal(await served(nextClient, sni), false, `sni=${sni}: the next CA, not yet in the bundle`)
    }
    replaceCaFile(ca.certPem + next.certPem)
    await waitFor('the next CA trusted', () => served(nextClient, true), 15_000)
    await waitFor('the next CA trusted without SNI', () => served(nextClient, false), 5_000)
    assert.equal(await served(client, true), true, 'the first CA is still in the bundle')
    assert.match(gateway.process.output(), /servers\.mtls\.tls_client_ca reloaded/)

    replaceCaFile(next.certPem)
    await waitFor('the first CA rotated out', async () => !(await served(client, true)), 15_000)
    await waitFor('the first CA rotated out without SNI', async () => !(await served(client, false)), 5_000)
    assert.equal(await served(nextClient, false), true)
  })

  test('a bundle that does not parse is reported and the previous CA stays', async () => {
    replaceCaFile('not a certificate\n')
    await waitFor('the error in the log', () => /tls_client_ca: not reloaded/.test(gateway.process.output()), 15_000)
    assert.equal(await served(nextClient, true), true)
    assert.equal(await served(nextClient, false), true)
  })
})

// TLS termination through the gateway: SNI picks among three certificates (openssl s_client
// and undici), a default serves unknown names, no default fails the handshake cleanly, and
// tls_min_version refuses older clients.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import {
  createTestCa,
  freePort,
  type GatewayProcess,
  startBackend,
  startGateway,
  type TestBackend,
  type TestCa,
  type TestCert,
} from '@fleetgate/testkit'
import { Agent, request } from 'undici'

const run = promisify(execFile)
let ca: TestCa
let backend: TestBackend
let gateway: GatewayProcess
let sniPort: number
let strictPort: number
let barePort: number
let strictSniPort: number
const certs: Record<string, TestCert> = {}

const cert = (name: string, c: TestCert, domains: string[], extra = '') =>
  `[certificates.${name}]\ndomains = ${JSON.stringify(domains)}\ntls_cert = "${c.certPath}"\ntls_key = "${c.keyPath}"\n${extra}\n`

/** The subject CN openssl s_client sees for `servername` (none: no SNI sent), or the failure. */
async function sClient(port: number, servername: string | undefined, extra: string[] = []): Promise<string> {
  const args = ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', ca.certPath, ...extra]
  if (servername !== undefined) args.push('-servername', servername)
  else args.push('-noservername')
  const child = run('openssl', args, { timeout: 5000 })
  child.child.stdin?.end('')
  const { stdout } = await child.catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }))
  return /subject=CN ?= ?([^\n]+)/.exec(stdout)?.[1]?.trim() ?? 'no certificate'
}

async function viaUndici(
  port: number,
  servername: string,
  options: { maxVersion?: 'TLSv1.2' } = {},
): Promise<{ status: number; body: string }> {
  const agent = new Agent({ connect: { servername, ca: ca.certPem, ...options } })
  try {
    const res = await request(`https://127.0.0.1:${port}/hello`, { dispatcher: agent, headers: { host: servername } })
    return { status: res.statusCode, body: await res.body.text() }
  } finally {
    await agent.close()
  }
}

describe('TLS termination: SNI', () => {
  before(async () => {
    ca = createTestCa()
    certs.a = ca.issue({ dns: ['a.test'] })
    certs.b = ca.issue({ dns: ['b.test'] })
    certs.wild = ca.issue({ dns: ['*.wild.test'] })
    certs.fallback = ca.issue({ dns: ['fallback.test'] })
    backend = await startBackend('app')
    ;[sniPort, strictPort, barePort, strictSniPort] = [await freePort(), await freePort(), await freePort(), await freePort()]
    gateway = await startGateway(`
[upstreams.app]
addrs = ["${backend.addr}"]

[locations.all]
upstream = "app"

${cert('a', certs.a as TestCert, ['a.test'])}
${cert('b', certs.b as TestCert, ['b.test'])}
${cert('wild', certs.wild as TestCert, ['*.wild.test'])}
${cert('fallback', certs.fallback as TestCert, ['fallback.test'], 'is_default = true')}

[servers.sni]
addr = "127.0.0.1:${sniPort}"
locations = ["all"]
global_certificates = true

[servers.strict]
addr = "127.0.0.1:${strictPort}"
locations = ["all"]
tls_cert = "${certs.a?.certPath}"
tls_key = "${certs.a?.keyPath}"
tls_min_version = "1.3"

[servers.bare]
addr = "127.0.0.1:${barePort}"
locations = ["all"]
certificates = ["a", "b"]

[servers.strictsni]
addr = "127.0.0.1:${strictSniPort}"
locations = ["all"]
certificates = ["a", "b"]
tls_min_version = "1.3"
`)
  })
  after(async () => {
    await gateway?.stop()
    await backend?.close()
    ca?.cleanup()
  })

  test('openssl s_client -servername gets the certificate of that name', async () => {
    assert.equal(await sClient(sniPort, 'a.test'), 'a.test')
    assert.equal(await sClient(sniPort, 'b.test'), 'b.test')
    assert.equal(await sClient(sniPort, 'x.wild.test'), '*.wild.test')
    assert.equal(await sClient(sniPort, 'unknown.test'), 'fallback.test')
    assert.equal(await sClient(sniPort, undefined), 'fallback.test')
  })

  test('undici with connect.servername and the CA verifies and reaches the backend', async () => {
    for (const name of ['a.test', 'b.test', 'api.wild.test']) {
      const res = await viaUndici(sniPort, name)
      assert.equal(res.status, 200, name)
      assert.equal(JSON.parse(res.body).url, '/hello')
    }
  })

  test('without a default, an unknown name fails the handshake and the listener keeps serving', async () => {
    assert.equal(await sClient(barePort, 'unknown.test'), 'no certificate')
    assert.equal(await sClient(barePort, undefined), 'no certificate')
    await assert.rejects(viaUndici(barePort, 'unknown.test'))
    assert.equal((await viaUndici(barePort, 'b.test')).status, 200)
  })

  test('tls_min_version = "1.3" refuses TLS 1.2 clients; the default accepts them', async () => {
    assert.equal(await sClient(strictPort, 'a.test', ['-tls1_2']), 'no certificate')
    assert.equal(await sClient(strictPort, 'a.test', ['-tls1_3']), 'a.test')
    await assert.rejects(viaUndici(strictPort, 'a.test', { maxVersion: 'TLSv1.2' }))
    assert.equal((await viaUndici(sniPort, 'a.test', { maxVersion: 'TLSv1.2' })).status, 200)
  })

  test('tls_min_version holds on a server with no default certificate too', async () => {
    // The handshake starts on the no-SNI default context, whose versions OpenSSL keeps.
    assert.equal(await sClient(strictSniPort, 'a.test', ['-tls1_2']), 'no certificate')
    assert.equal(await sClient(strictSniPort, 'a.test', ['-tls1_3']), 'a.test')
    await assert.rejects(viaUndici(strictSniPort, 'b.test', { maxVersion: 'TLSv1.2' }))
    assert.equal((await viaUndici(strictSniPort, 'b.test')).status, 200)
  })
})

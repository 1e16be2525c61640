// OCSP stapling through the gateway against a real OpenSSL responder on loopback:
// `openssl s_client -status` shows a good staple; a revoked certificate is reported as revoked
// (log and fleetgate_tls_ocsp_status) and not stapled.
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
  startOcspResponder,
  type TestBackend,
  type TestCa,
  type TestCert,
  type TestOcspResponder,
  waitFor,
} from '@fleetgate/testkit'

const run = promisify(execFile)
let root: TestCa
let mid: TestCa
let responder: TestOcspResponder
let backend: TestBackend
let gateway: GatewayProcess
let port: number
let good: TestCert
let revoked: TestCert

async function sClientStatus(servername: string): Promise<string> {
  const args = ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', servername, '-CAfile', root.certPath, '-status']
  const child = run('openssl', args, { timeout: 5000 })
  child.child.stdin?.end('')
  const { stdout } = await child.catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }))
  return stdout
}

async function metrics(): Promise<string> {
  return await (await fetch(`${gateway.statusUrl}/metrics`)).text()
}

describe('OCSP stapling through the gateway', () => {
  before(async () => {
    root = createTestCa('ocsp-root')
    mid = root.intermediate('ocsp-mid')
    responder = await startOcspResponder(mid)
    good = mid.issue({ dns: ['good.test'], ocspUrl: responder.url })
    revoked = mid.issue({ dns: ['revoked.test'], ocspUrl: responder.url })
    mid.revoke(revoked)
    backend = await startBackend('app')
    port = await freePort()
    const cert = (name: string, c: TestCert) =>
      `[certificates.${name}]\ndomains = ["${name}.test"]\ntls_cert = "${c.certPath}"\ntls_key = "${c.keyPath}"\ntls_chain = "${mid.certPath}"\n`
    gateway = await startGateway(`
[upstreams.app]
addrs = ["${backend.addr}"]

[locations.all]
upstream = "app"

${cert('good', good)}
${cert('revoked', revoked)}

[servers.tls]
addr = "127.0.0.1:${port}"
locations = ["all"]
global_certificates = true
`)
  })
  after(async () => {
    await gateway?.stop()
    await backend?.close()
    await responder?.close()
    root?.cleanup()
  })

  test('openssl s_client -status shows the stapled good response', async () => {
    await waitFor(
      'good status in /metrics',
      async () => /fleetgate_tls_ocsp_status\{certificate="good",status="good"\} 1/.test(await metrics()),
      10_000,
    )
    const out = await sClientStatus('good.test')
    assert.match(out, /OCSP Response Status: successful/)
    assert.match(out, /Cert Status: good/)
    assert.match(out, /Verify return code: 0 \(ok\)/)
  })

  test('a revoked certificate is reported as revoked and not stapled', async () => {
    await waitFor(
      'revoked status in /metrics',
      async () => /fleetgate_tls_ocsp_status\{certificate="revoked",status="revoked"\} 1/.test(await metrics()),
      10_000,
    )
    assert.match(gateway.process.output(), /REVOKED/)
    const out = await sClientStatus('revoked.test')
    assert.match(out, /subject=CN ?= ?revoked\.test/)
    assert.match(out, /OCSP response: no response sent/)
  })

  test('the expiry gauge is exported per certificate', async () => {
    const text = await metrics()
    const seconds = Number(/fleetgate_tls_certificate_expiry_seconds\{certificate="good"\} (\d+)/.exec(text)?.[1])
    assert.ok(seconds > 29 * 86_400 && seconds <= 30 * 86_400, `expiry seconds ${seconds}`)
  })
})

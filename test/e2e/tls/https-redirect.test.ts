// HTTP to HTTPS on a plain listener with the `redirect` plugin as a server plugin, while ACME
// HTTP-01 challenges are still answered on it (the gateway answers them before routing).
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { freePort, type GatewayProcess, startBackend, startGateway, type TestBackend, waitFor } from '@fleetgate/testkit'
import { request } from 'undici'

let backend: TestBackend
let gateway: GatewayProcess
let port: number
let acmeDir: string

describe('HTTP to HTTPS redirect', () => {
  before(async () => {
    backend = await startBackend('app')
    port = await freePort()
    acmeDir = await mkdtemp(join(tmpdir(), 'fleetgate-acme-'))
    // With worker processes, challenge tokens are shared through <acme-dir>/challenges/: the
    // test writes one there as the ordering worker would.
    await mkdir(join(acmeDir, 'challenges'), { recursive: true })
    gateway = await startGateway(
      `
[upstreams.app]
addrs = ["${backend.addr}"]

[locations.all]
upstream = "app"

[plugins.to_https]
type = "redirect"
https = true
https_port = 8443
status = 308

# Challenges are shared between workers once a config has an ACME certificate; --no-acme
# keeps this node from ordering it (no CA here).
[certificates.shop]
domains = ["shop.test"]
acme = "https://127.0.0.1:9/directory"

[servers.plain]
addr = "127.0.0.1:${port}"
locations = ["all"]
plugins = ["to_https"]
`,
      ['--workers', '2', '--acme-dir', acmeDir, '--no-acme'],
    )
  })
  after(async () => {
    await gateway?.stop()
    await backend?.close()
    await rm(acmeDir, { recursive: true, force: true })
  })

  test('a plain request is redirected to https with its path and query', async () => {
    const res = await request(`http://127.0.0.1:${port}/shop/cart?item=3`, { headers: { host: 'shop.test' } })
    await res.body.text()
    assert.equal(res.statusCode, 308)
    assert.equal(res.headers.location, 'https://shop.test:8443/shop/cart?item=3')
    assert.equal(backend.hits, 0)
  })

  test('ACME HTTP-01 challenges are answered, not redirected', async () => {
    await writeFile(join(acmeDir, 'challenges', 'tok3n_A-1'), 'tok3n_A-1.thumbprint')
    const res = await waitFor(
      'challenge answered',
      async () => {
        const r = await request(`http://127.0.0.1:${port}/.well-known/acme-challenge/tok3n_A-1`, { headers: { host: 'shop.test' } })
        const body = await r.body.text()
        return r.statusCode === 200 ? body : undefined
      },
      5000,
    )
    assert.equal(res, 'tok3n_A-1.thumbprint')
    const unknown = await request(`http://127.0.0.1:${port}/.well-known/acme-challenge/other`, { headers: { host: 'shop.test' } })
    await unknown.body.text()
    assert.equal(unknown.statusCode, 308)
  })
})

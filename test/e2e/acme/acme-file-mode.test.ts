// ACME end to end in file mode: `fleetgate proxy --config` with an acme certificate orders it from a real
// pebble, which validates HTTP-01 against the gateway's own plain listener; the certificate lands in
// --acme-dir with mode 0600 and is applied as a new generation, served by the TLS listener.
import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { once } from 'node:events'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { connect } from 'node:tls'
import {
  freePort,
  type GatewayProcess,
  refusedPort,
  startBackend,
  startGateway,
  startPebble,
  type TestBackend,
  type TestPebble,
  waitFor,
} from '@fleetgate/testkit'

let pebble: TestPebble
let backend: TestBackend
let gateway: GatewayProcess
let dir: string
let port: number
let tlsPort: number

function config(): string {
  return `
[upstreams.app]
addrs = ["${backend.addr}"]

[locations.app]
upstream = "app"
path = "/"

[servers.main]
addr = "127.0.0.1:${port}"
locations = ["app"]

[servers.tls]
addr = "127.0.0.1:${tlsPort}"
locations = ["app"]
certificates = ["site"]

[certificates.site]
domains = ["site.example.test"]
acme = "${pebble.directoryUrl}"
acme_email = "ops@example.test"
`
}

describe('ACME in file mode', { timeout: 90_000 }, () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fleetgate-acme-e2e-'))
    backend = await startBackend('app')
    port = await freePort()
    tlsPort = await freePort()
    pebble = await startPebble({ httpPort: port })
    gateway = await startGateway(config(), ['--acme-dir', join(dir, 'acme'), '--acme-ca', pebble.caFile])
  })
  after(async () => {
    await gateway?.stop()
    await pebble?.stop()
    await backend?.close()
    await rm(dir, { recursive: true, force: true })
  })

  test('the certificate is ordered through the gateway, stored with mode 0600 and applied', async () => {
    const certPath = join(dir, 'acme/certificates/site.crt')
    const keyPath = join(dir, 'acme/certificates/site.key')
    await gateway.waitForGeneration(2, 30_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${gateway.process.output()}\n${pebble.process.output()}`)
    })
    for (const path of [certPath, keyPath]) assert.equal((await stat(path)).mode & 0o777, 0o600, path)
    const cert = new X509Certificate(await readFile(certPath, 'utf8'))
    assert.match(cert.issuer, /Pebble Intermediate CA/)
    assert.match(cert.subjectAltName ?? '', /DNS:site\.example\.test/)
    assert.equal(pebble.issuedCount(), 1)
    const pebbleLog = pebble.process.output()
    assert.ok(
      pebbleLog.includes(`validate w/ HTTP: http://site.example.test:${port}/.well-known/acme-challenge/`),
      'pebble asked the gateway',
    )
    assert.match(pebbleLog, /set VALID by completed challenge/)
    const res = await fetch(`http://127.0.0.1:${port}/hello`)
    assert.equal(res.status, 200, 'routing is unaffected')
    assert.equal(((await res.json()) as { backend: string }).backend, 'app')
  })

  test("the TLS listener serves the issued certificate, which verifies against pebble's root", async () => {
    const socket = connect({ host: '127.0.0.1', port: tlsPort, servername: 'site.example.test', ca: await pebble.rootPem() })
    try {
      await once(socket, 'secureConnect')
      assert.equal(socket.authorized, true, String(socket.authorizationError))
      assert.match(String(socket.getPeerCertificate().issuer.CN), /Pebble Intermediate CA/)
    } finally {
      socket.destroy()
    }
  })

  test('a reload keeps the issued certificate without ordering again', async () => {
    await gateway.writeConfig(`${config()}\n[basic]\nname = "renamed"\n`)
    await gateway.waitForGeneration(3, 10_000)
    await new Promise((resolve) => setTimeout(resolve, 500))
    assert.equal(pebble.issuedCount(), 1)
    assert.equal(
      gateway.process
        .output()
        .split('\n')
        .filter((l) => l.includes('"ACME order started"')).length,
      1,
    )
  })

  test('a node started with FLEETGATE_NO_ACME=1 places no order', async () => {
    const orders = pebble.orderCount()
    const quietDir = join(dir, 'quiet')
    const otherPort = await freePort()
    const toml = config()
      .replace(`127.0.0.1:${port}`, `127.0.0.1:${otherPort}`)
      .replace(`127.0.0.1:${tlsPort}`, `127.0.0.1:${await freePort()}`)
    process.env.FLEETGATE_NO_ACME = '1'
    const quiet = await startGateway(toml, ['--acme-dir', quietDir, '--acme-ca', pebble.caFile]).finally(() => {
      delete process.env.FLEETGATE_NO_ACME
    })
    try {
      await new Promise((resolve) => setTimeout(resolve, 1500))
      assert.equal(pebble.orderCount(), orders)
      assert.ok(!quiet.process.output().includes('ACME order'), quiet.process.output())
      assert.equal((await fetch(`http://127.0.0.1:${otherPort}/x`)).status, 200, 'it serves everything else')
    } finally {
      await quiet.stop()
    }
  })

  test('a CA that cannot be reached fails the order at once, naming the network error', async () => {
    const down = await refusedPort()
    const toml = config()
      .replace(`127.0.0.1:${port}`, `127.0.0.1:${await freePort()}`)
      .replace(`127.0.0.1:${tlsPort}`, `127.0.0.1:${await freePort()}`)
      .replace(pebble.directoryUrl, `https://127.0.0.1:${down}/dir`)
    const other = await startGateway(toml, ['--acme-dir', join(dir, 'down'), '--acme-ca', pebble.caFile])
    try {
      const started = performance.now()
      await waitFor('ACME order failed', () => other.process.output().includes('"ACME order failed"'), 20_000)
      assert.ok(performance.now() - started < 15_000, 'reported within seconds, not after acme-client retries')
      assert.match(other.process.output(), /"reason":"ACME directory https:\/\/127\.0\.0\.1:\d+\/dir: unreachable \(ECONNREFUSED\)"/)
    } finally {
      await other.stop()
    }
  })

  test('neither the certificate key nor the account key appears in the log', async () => {
    const key = await readFile(join(dir, 'acme/certificates/site.key'), 'utf8')
    const body = key.split('\n')[1] as string
    const output = gateway.process.output()
    assert.ok(!output.includes(body))
    assert.doesNotMatch(output, /PRIVATE KEY/)
  })
})

describe('ACME in file mode with worker processes', { timeout: 90_000 }, () => {
  let workerPebble: TestPebble
  let workers: GatewayProcess
  let workerDir: string
  let httpPort: number
  let httpsPort: number
  let workerBackend: TestBackend

  before(async () => {
    workerDir = await mkdtemp(join(tmpdir(), 'fleetgate-acme-workers-'))
    workerBackend = await startBackend('app')
    httpPort = await freePort()
    httpsPort = await freePort()
    workerPebble = await startPebble({ httpPort })
    const toml = `
[upstreams.app]
addrs = ["${workerBackend.addr}"]

[locations.app]
upstream = "app"
path = "/"

[servers.main]
addr = "127.0.0.1:${httpPort}"
locations = ["app"]

[servers.tls]
addr = "127.0.0.1:${httpsPort}"
locations = ["app"]
certificates = ["multi"]

[certificates.multi]
domains = ["multi.example.test"]
acme = "${workerPebble.directoryUrl}"
`
    workers = await startGateway(toml, ['--workers', '3', '--acme-dir', join(workerDir, 'acme'), '--acme-ca', workerPebble.caFile])
  })
  after(async () => {
    await workers?.stop()
    await workerPebble?.stop()
    await workerBackend?.close()
    await rm(workerDir, { recursive: true, force: true })
  })

  test('any worker answers the challenge and every worker serves the issued certificate', async () => {
    await waitFor('certificate issued', () => workerPebble.issuedCount() === 1, 30_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${workers.process.output()}\n${workerPebble.process.output()}`)
    })
    const validations = workerPebble.process
      .output()
      .split('\n')
      .filter((l) => l.includes('validate w/ HTTP')).length
    assert.ok(validations >= 2, 'pebble validated from several connections')
    assert.equal(
      workers.process
        .output()
        .split('\n')
        .filter((l) => l.includes('"ACME order started"')).length,
      1,
      'one worker orders',
    )
    const root = await workerPebble.rootPem()
    await waitFor(
      'every worker serves the certificate',
      async () => {
        for (let i = 0; i < 12; i++) {
          const socket = connect({ host: '127.0.0.1', port: httpsPort, servername: 'multi.example.test', ca: root })
          try {
            await once(socket, 'secureConnect')
            if (!socket.authorized) return false
          } finally {
            socket.destroy()
          }
        }
        return true
      },
      15_000,
      200,
    )
  })
})

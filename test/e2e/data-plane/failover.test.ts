// Failover through the gateway: connect failures retried on another backend, passive
// ejection after consecutive failures, active health checks, and 503 when nothing is up.
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:net'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort, type GatewayProcess, startBackend, startGateway, type TestBackend, waitFor } from '@fleetgate/testkit'
import { Agent, request } from 'undici'

const HEALTH = 'http://check/healthz?interval=200ms&failure=1&success=1&timeout=200ms'
const backends: Record<string, TestBackend> = {}
/** /healthz status per backend name; flipped by the tests. */
const healthStatus: Record<string, number> = {}
/** Requests other than health checks that reached each backend. */
const proxied: Record<string, number> = {}
let resetter: Server
let resets = 0
let gateway: GatewayProcess
let port: number
const agent = new Agent({ connections: 8 })

/** A backend that answers /healthz with healthStatus[name] and anything else with its name. */
function startHealthBackend(name: string, port = 0): Promise<TestBackend> {
  healthStatus[name] = 200
  return startBackend(
    name,
    (req, res) => {
      if (req.url === '/healthz') res.writeHead(healthStatus[name] as number).end()
      else {
        proxied[name] = (proxied[name] ?? 0) + 1
        res.writeHead(200, { 'x-backend': name }).end(name)
      }
    },
    port,
  )
}

/** Accepts connections, counts them and resets each at once: every request to it fails. */
function startResetter(): Promise<Server> {
  const server = createServer((socket) => {
    resets++
    socket.resetAndDestroy()
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

before(async () => {
  for (const name of ['r1', 'r2', 'k1', 'k2', 'good', 'h1', 'h2', 'd1', 'd2']) backends[name] = await startHealthBackend(name)
  resetter = await startResetter()
  const addr = (name: string) => (backends[name] as TestBackend).addr
  port = await freePort()
  gateway = await startGateway(`
[upstreams.retry]
addrs = ["${addr('r1')}", "${addr('r2')}"]
circuit_break_failures = 0

[upstreams.underload]
addrs = ["${addr('k1')}", "${addr('k2')}"]
circuit_break_open_duration = "100ms"

[upstreams.passive]
addrs = ["127.0.0.1:${(resetter.address() as { port: number }).port}", "${addr('good')}"]
circuit_break_failures = 3
circuit_break_open_duration = "60s"

[upstreams.active]
addrs = ["${addr('h1')}", "${addr('h2')}"]
health_check = "${HEALTH}"

[upstreams.down]
addrs = ["${addr('d1')}", "${addr('d2')}"]
health_check = "${HEALTH}"

[locations.retry]
upstream = "retry"
path = "/retry"

[locations.underload]
upstream = "underload"
path = "/underload"

[locations.passive]
upstream = "passive"
path = "/passive"

[locations.active]
upstream = "active"
path = "/active"

[locations.down]
upstream = "down"
path = "/down"

[servers.main]
addr = "127.0.0.1:${port}"
locations = ["retry", "underload", "passive", "active", "down"]
`)
})

after(async () => {
  await agent.close()
  await gateway?.stop()
  for (const b of Object.values(backends)) await b.close()
  await new Promise((resolve) => resetter?.close(resolve))
})

async function get(path: string): Promise<{ status: number; backend: string; body: string }> {
  const res = await request(`http://127.0.0.1:${port}${path}`, { dispatcher: agent })
  return { status: res.statusCode, backend: String(res.headers['x-backend']), body: await res.body.text() }
}

/** Sends `n` sequential requests and counts them by status and backend. */
async function burst(path: string, n: number) {
  const byStatus: Record<number, number> = {}
  const byBackend: Record<string, number> = {}
  for (let i = 0; i < n; i++) {
    const r = await get(path)
    byStatus[r.status] = (byStatus[r.status] ?? 0) + 1
    byBackend[r.backend] = (byBackend[r.backend] ?? 0) + 1
  }
  return { byStatus, byBackend }
}

test('a closed backend is retried on the other one with zero failed requests', async () => {
  const before = await burst('/retry', 10)
  assert.deepEqual(before.byBackend, { r1: 5, r2: 5 })
  await (backends.r1 as TestBackend).close()
  // Passive ejection is off for this upstream: every other pick still lands on the dead backend.
  const { byStatus, byBackend } = await burst('/retry', 100)
  assert.deepEqual(byStatus, { 200: 100 })
  assert.deepEqual(byBackend, { r2: 100 })
})

test('a backend shutting down under load (20 concurrent GETs) fails no request', async () => {
  let stop = false
  let sent = 0
  const failures: string[] = []
  const worker = async () => {
    while (!stop) {
      sent++
      const r = await get('/underload').catch((err: Error) => ({ status: 0, body: err.message }))
      if (r.status !== 200) failures.push(`${r.status} ${r.body.trim()}`)
    }
  }
  const load = Promise.all(Array.from({ length: 20 }, worker))
  // Three graceful stops and restarts: in-flight requests finish, idle keep-alive connections are closed.
  for (let cycle = 0; cycle < 3; cycle++) {
    await sleep(250)
    const k1 = backends.k1 as TestBackend
    k1.server.close()
    k1.server.closeIdleConnections()
    await sleep(250)
    backends.k1 = await startHealthBackend('k1', k1.port)
  }
  stop = true
  await load
  assert.ok(sent > 200, `only ${sent} requests sent`)
  assert.deepEqual(failures.slice(0, 3), [], `${failures.length} of ${sent} requests failed`)
})

test('after circuit_break_failures failures the failing backend is no longer tried', async () => {
  const first = await burst('/passive', 10)
  // Round-robin alternates: requests 1, 3 and 5 reach the resetting backend, whose resets count as
  // failures (those GETs are retried on the healthy backend, so the client sees no error); after
  // the third it is ejected.
  assert.equal(resets, 3)
  assert.deepEqual(first.byStatus, { 200: 10 })
  const later = await burst('/passive', 40)
  assert.deepEqual(later.byStatus, { 200: 40 })
  assert.equal(resets, 3, 'the ejected backend got new connections')
})

test('an active health check ejects a backend whose /healthz fails and brings it back when it passes', async () => {
  assert.deepEqual((await burst('/active', 10)).byBackend, { h1: 5, h2: 5 })
  healthStatus.h1 = 500
  await waitFor('h1 ejected', async () => (await burst('/active', 6)).byBackend.h2 === 6, 5000)
  assert.deepEqual((await burst('/active', 20)).byBackend, { h2: 20 })
  healthStatus.h1 = 200
  await waitFor('h1 back', async () => ((await burst('/active', 4)).byBackend.h1 ?? 0) > 0, 5000)
  assert.deepEqual((await burst('/active', 10)).byBackend, { h1: 5, h2: 5 })
})

test('with every backend down a request gets 503 NO_HEALTHY_BACKEND at once', async () => {
  healthStatus.d1 = 500
  healthStatus.d2 = 500
  await waitFor('both ejected', async () => (await get('/down')).status === 503, 5000)
  const proxiedBefore = (proxied.d1 ?? 0) + (proxied.d2 ?? 0)
  const started = performance.now()
  const res = await request(`http://127.0.0.1:${port}/down`, { dispatcher: agent })
  const elapsed = performance.now() - started
  const body = (await res.body.json()) as { error: { code: string } }
  assert.equal(res.statusCode, 503)
  assert.equal(body.error.code, 'NO_HEALTHY_BACKEND')
  assert.equal(res.headers['x-fleetgate-error'], 'NO_HEALTHY_BACKEND')
  // Generous for a loaded CI box; what matters is that no connect or read timeout was waited for.
  assert.ok(elapsed < 500, `took ${elapsed} ms`)
  assert.equal((proxied.d1 ?? 0) + (proxied.d2 ?? 0), proxiedBefore, 'a request was proxied to an ejected backend')
})

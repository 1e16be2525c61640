// Each balancer's distribution as real clients see it through the gateway: weighted
// round-robin shares, least_conn avoiding a slow backend, hash stickiness, random spread.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { freePort, type GatewayProcess, startBackend, startGateway, type TestBackend } from '@fleetgate/testkit'
import { Agent, request } from 'undici'

const backends: Record<string, TestBackend> = {}
let gateway: GatewayProcess
let port: number
const agent = new Agent({ connections: 32 })

before(async () => {
  for (const name of ['a', 'b', 'c', 'fast']) backends[name] = await startBackend(name)
  backends.slow = await startBackend('slow', (_req, res) => {
    setTimeout(() => res.writeHead(200, { 'x-backend': 'slow' }).end('slow'), 300)
  })
  const addr = (name: string) => (backends[name] as TestBackend).addr
  port = await freePort()
  const upstream = (name: string, addrs: string[], algorithm: string) =>
    `[upstreams.${name}]\naddrs = [${addrs.map((a) => `"${a}"`).join(', ')}]\nalgorithm = "${algorithm}"\n` +
    `[locations.${name}]\nupstream = "${name}"\npath = "/${name}"\n`
  gateway = await startGateway(
    [
      upstream('rr', [`${addr('a')} 1`, `${addr('b')} 3`], 'round_robin'),
      upstream('lc', [addr('slow'), addr('fast')], 'least_conn'),
      upstream('iphash', [addr('a'), addr('b'), addr('c')], 'ip_hash'),
      upstream('hh', [addr('a'), addr('b'), addr('c')], 'hash:header:X-User'),
      upstream('rand', [addr('a'), addr('b'), addr('c')], 'random'),
      `[servers.main]\naddr = "127.0.0.1:${port}"\nlocations = ["rr", "lc", "iphash", "hh", "rand"]\n`,
    ].join('\n'),
  )
})

after(async () => {
  await agent.close()
  await gateway?.stop()
  for (const b of Object.values(backends)) await b.close()
})

/** Sends `total` requests with `concurrency` in flight and counts answers per backend. */
async function distribution(path: string, total: number, concurrency = 1, headers: (i: number) => Record<string, string> = () => ({})) {
  const counts: Record<string, number> = {}
  let next = 0
  const worker = async () => {
    while (next < total) {
      const i = next++
      const res = await request(`http://127.0.0.1:${port}${path}`, { dispatcher: agent, headers: headers(i) })
      await res.body.dump()
      assert.equal(res.statusCode, 200)
      const name = String(res.headers['x-backend'])
      counts[name] = (counts[name] ?? 0) + 1
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return counts
}

test('round_robin splits by weight: weights 1 and 3 give 25% and 75%', async () => {
  const counts = await distribution('/rr', 200, 4)
  assert.ok(Math.abs((counts.a ?? 0) - 50) <= 2, JSON.stringify(counts))
  assert.ok(Math.abs((counts.b ?? 0) - 150) <= 2, JSON.stringify(counts))
})

test('least_conn sends fewer requests to a slow backend', async (t) => {
  const counts = await distribution('/lc', 200, 10)
  t.diagnostic(`least_conn: ${JSON.stringify(counts)}`)
  // Round-robin would give the slow backend 100 of 200; least_conn balances requests in flight, and
  // the slow backend holds each one 300 ms while the fast one turns its over in about a millisecond.
  assert.ok((counts.slow ?? 0) < 40, JSON.stringify(counts))
  assert.ok((counts.slow ?? 0) >= 1, JSON.stringify(counts))
  assert.equal((counts.slow ?? 0) + (counts.fast ?? 0), 200)
})

test('ip_hash sends every request of one client to the same backend', async () => {
  const counts = await distribution('/iphash', 60, 4)
  assert.deepEqual(Object.values(counts), [60], JSON.stringify(counts))
})

test('hash:header sends each header value to one backend and spreads different values', async () => {
  const users = Array.from({ length: 12 }, (_, i) => `user-${i}`)
  const owner = new Map<string, Set<string>>()
  await Promise.all(
    users.map(async (user) => {
      const counts = await distribution('/hh', 15, 3, () => ({ 'x-user': user }))
      owner.set(user, new Set(Object.keys(counts)))
    }),
  )
  for (const [user, seen] of owner) assert.equal(seen.size, 1, `${user} went to ${[...seen].join(', ')}`)
  const used = new Set([...owner.values()].map((s) => [...s][0]))
  assert.ok(used.size >= 2, `12 users all hashed to ${[...used].join(', ')}`)
})

test('random spreads requests over every backend', async () => {
  const counts = await distribution('/rand', 300, 6)
  for (const name of ['a', 'b', 'c']) {
    // Expected 100 each; 60..140 is more than four standard deviations either side.
    assert.ok((counts[name] ?? 0) > 60 && (counts[name] ?? 0) < 140, JSON.stringify(counts))
  }
})

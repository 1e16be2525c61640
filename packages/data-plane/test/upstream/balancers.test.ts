import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { parseAlgorithm } from '@fleetgate/schema'
import type { UpstreamBackend } from '../../src/upstream/backend.ts'
import { createBalancer } from '../../src/upstream/balancers/index.ts'
import type { BalanceRequest } from '../../src/upstream/types.ts'
import { backendsFor } from './upstream-config.ts'

const created: UpstreamBackend[] = []
after(() => Promise.all(created.map((b) => b.close())))

function make(addrs: readonly string[]): UpstreamBackend[] {
  const backends = backendsFor(addrs)
  created.push(...backends)
  return backends
}

function req(overrides: Partial<BalanceRequest> = {}): BalanceRequest {
  return { clientIp: '192.0.2.1', headers: {}, query: '', ...overrides }
}

function counts(ids: readonly (string | undefined)[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const id of ids) out[id ?? 'none'] = (out[id ?? 'none'] ?? 0) + 1
  return out
}

describe('round_robin', () => {
  test('weights 1:3 give exactly 100:300 over 400 picks, interleaved', () => {
    const [a, b] = make(['10.0.0.1:80 1', '10.0.0.2:80 3'])
    const balancer = createBalancer(parseAlgorithm('round_robin'), [a!, b!])
    const picks = Array.from({ length: 400 }, () => balancer.pick(req())?.id)
    assert.deepEqual(counts(picks), { '10.0.0.1:80': 100, '10.0.0.2:80': 300 })
    // Smooth WRR: the light backend appears once in every window of four, never batched.
    assert.deepEqual(picks.slice(0, 8), [
      '10.0.0.2:80',
      '10.0.0.1:80',
      '10.0.0.2:80',
      '10.0.0.2:80',
      '10.0.0.2:80',
      '10.0.0.1:80',
      '10.0.0.2:80',
      '10.0.0.2:80',
    ])
    for (let i = 0; i + 4 <= picks.length; i += 4) assert.equal(picks.slice(i, i + 4).filter((id) => id === '10.0.0.1:80').length, 1)
  })

  test('equal weights alternate', () => {
    const backends = make(['10.0.1.1:80', '10.0.1.2:80', '10.0.1.3:80'])
    const balancer = createBalancer(parseAlgorithm('round_robin'), backends)
    const picks = Array.from({ length: 6 }, () => balancer.pick(req())?.id)
    assert.deepEqual(picks, ['10.0.1.1:80', '10.0.1.2:80', '10.0.1.3:80', '10.0.1.1:80', '10.0.1.2:80', '10.0.1.3:80'])
  })
})

describe('least_conn', () => {
  test('prefers the backend with fewer requests in flight', () => {
    const [busy, idle] = make(['10.0.2.1:80', '10.0.2.2:80'])
    busy!.onRequestStart()
    busy!.onRequestStart()
    const balancer = createBalancer(parseAlgorithm('least_conn'), [busy!, idle!])
    for (let i = 0; i < 5; i++) assert.equal(balancer.pick(req()), idle)
    busy!.onRequestEnd(false)
    busy!.onRequestEnd(false)
  })

  test('weighs in-flight requests by weight', () => {
    const [light, heavy] = make(['10.0.2.3:80 1', '10.0.2.4:80 4'])
    const balancer = createBalancer(parseAlgorithm('least_conn'), [light!, heavy!])
    light!.onRequestStart() // 1/1
    for (let i = 0; i < 3; i++) heavy!.onRequestStart() // 3/4 < 1
    assert.equal(balancer.pick(req()), heavy)
    heavy!.onRequestStart() // 4/4 == 1/1: a tie, either is fine
    heavy!.onRequestStart() // 5/4 > 1
    assert.equal(balancer.pick(req()), light)
  })

  test('equally loaded backends take turns', () => {
    const backends = make(['10.0.2.5:80', '10.0.2.6:80', '10.0.2.7:80'])
    const balancer = createBalancer(parseAlgorithm('least_conn'), backends)
    const picks = Array.from({ length: 300 }, () => balancer.pick(req())?.id)
    assert.deepEqual(Object.values(counts(picks)), [100, 100, 100])
  })
})

describe('random', () => {
  test('spreads picks roughly in proportion to weight', () => {
    const [a, b] = make(['10.0.3.1:80 1', '10.0.3.2:80 3'])
    const balancer = createBalancer(parseAlgorithm('random'), [a!, b!])
    const c = counts(Array.from({ length: 20_000 }, () => balancer.pick(req())?.id))
    const share = (c['10.0.3.2:80'] ?? 0) / 20_000
    assert.ok(share > 0.72 && share < 0.78, `heavy share ${share}`)
    assert.equal((c['10.0.3.1:80'] ?? 0) + (c['10.0.3.2:80'] ?? 0), 20_000)
  })
})

describe('consistent hash', () => {
  const ids = (n: number, base: string) => Array.from({ length: n }, (_, i) => `${base}-${i + 1}.internal:80`)

  test('ip_hash sends the same client to the same backend', () => {
    const balancer = createBalancer(parseAlgorithm('ip_hash'), make(ids(4, 'sticky')))
    for (let i = 0; i < 50; i++) {
      const r = req({ clientIp: `198.51.100.${i}` })
      const first = balancer.pick(r)
      for (let k = 0; k < 5; k++) assert.equal(balancer.pick(r), first)
    }
  })

  test('spreads keys over all backends', () => {
    const balancer = createBalancer(parseAlgorithm('ip_hash'), make(ids(4, 'spread')))
    const c = counts(Array.from({ length: 10_000 }, (_, i) => balancer.pick(req({ clientIp: `key-${i}` }))?.id))
    assert.equal(Object.keys(c).length, 4)
    for (const n of Object.values(c)) assert.ok(n > 1500 && n < 3500, `unbalanced: ${JSON.stringify(c)}`)
  })

  test('adding a fifth backend moves about 1/5 of keys, all to the new one', () => {
    const five = make(ids(5, 'grow'))
    const before = createBalancer(parseAlgorithm('ip_hash'), five.slice(0, 4))
    const afterAdd = createBalancer(parseAlgorithm('ip_hash'), five)
    let moved = 0
    for (let i = 0; i < 10_000; i++) {
      const r = req({ clientIp: `key-${i}` })
      const was = before.pick(r)
      const now = afterAdd.pick(r)
      if (was === now) continue
      moved += 1
      assert.equal(now, five[4], `key-${i} moved between two old backends`)
    }
    assert.ok(moved / 10_000 > 0.12 && moved / 10_000 < 0.3, `moved fraction ${moved / 10_000}`)
  })

  const keyCases: { algorithm: string; with: (v: string) => Partial<BalanceRequest>; missing: Partial<BalanceRequest> }[] = [
    { algorithm: 'hash:header:X-User', with: (v) => ({ headers: { 'x-user': v } }), missing: { headers: { 'x-other': 'a' } } },
    {
      algorithm: 'hash:cookie:sid',
      with: (v) => ({ headers: { cookie: `xsid=zzz; sid=${v}; other=1` } }),
      missing: { headers: { cookie: 'xsid=zzz; other=1' } },
    },
    { algorithm: 'hash:query:user', with: (v) => ({ query: `a=1&user=${v}&b=2` }), missing: { query: 'a=1&xuser=2' } },
  ]
  for (const c of keyCases) {
    test(`${c.algorithm} keeps a key on one backend and spreads different keys`, () => {
      const balancer = createBalancer(parseAlgorithm(c.algorithm), make(ids(4, `keyed-${c.algorithm.length}`)))
      const seen = new Set<string | undefined>()
      for (let i = 0; i < 200; i++) {
        const r = req({ clientIp: '203.0.113.9', ...c.with(`value-${i}`) })
        const first = balancer.pick(r)
        assert.equal(balancer.pick(r), first)
        assert.equal(balancer.pick({ ...r, clientIp: '203.0.113.10' }), first)
        seen.add(first?.id)
      }
      assert.equal(seen.size, 4)
    })

    test(`${c.algorithm} falls back to round-robin when the key is missing`, () => {
      const backends = make(ids(4, `fallback-${c.algorithm.length}`))
      const balancer = createBalancer(parseAlgorithm(c.algorithm), backends)
      const picks = Array.from({ length: 8 }, () => balancer.pick(req(c.missing))?.id)
      assert.deepEqual(
        picks,
        [...backends, ...backends].map((b) => b.id),
      )
    })
  }

  test('a key whose backend is unavailable moves to the next one and comes back', () => {
    const backends = make(ids(4, 'walk'))
    const balancer = createBalancer(parseAlgorithm('ip_hash'), backends)
    const r = req({ clientIp: 'sticky' })
    const picked = balancer.pick(r)
    const home = backends.find((b) => b === picked)!
    home.setUp(false)
    const other = balancer.pick(r)
    assert.ok(other !== undefined && other !== home)
    assert.equal(balancer.pick(r), other)
    home.setUp(true)
    assert.equal(balancer.pick(r), home)
  })
})

describe('every balancer', () => {
  const algorithms = ['round_robin', 'least_conn', 'random', 'ip_hash', 'hash:header:x-k', 'hash:cookie:k', 'hash:query:k']
  const request = req({ headers: { 'x-k': 'v', cookie: 'k=v' }, query: 'k=v' })
  for (const name of algorithms) {
    test(`${name} skips unavailable and excluded backends`, () => {
      const backends = make(['10.1.0.1:80', '10.1.0.2:80 5', '10.1.0.3:80'])
      const [a, b, c] = backends as [UpstreamBackend, UpstreamBackend, UpstreamBackend]
      const balancer = createBalancer(parseAlgorithm(name), backends)
      b.setUp(false)
      const exclude = new Set([a])
      for (let i = 0; i < 50; i++) assert.equal(balancer.pick(request, exclude), c)
      const picks = new Set(Array.from({ length: 50 }, () => balancer.pick(req({ clientIp: `ip-${Math.random()}` }))))
      assert.ok(!picks.has(b))
    })

    test(`${name} returns undefined when every backend is excluded or unavailable`, () => {
      const backends = make(['10.1.1.1:80', '10.1.1.2:80'])
      const balancer = createBalancer(parseAlgorithm(name), backends)
      backends[0]!.setUp(false)
      assert.equal(balancer.pick(request, new Set([backends[1]!])), undefined)
      backends[1]!.setUp(false)
      assert.equal(balancer.pick(request), undefined)
    })
  }
})

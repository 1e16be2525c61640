// The cache plugin's store (LRU by bytes, expiry, purge by URL and prefix) and its freshness
// rules (RFC 9111 as a shared cache), table-driven.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { freshnessMs, staleWindows } from '../../src/plugins/cache-policy.ts'
import { type CacheEntry, isFresh, ResponseCache } from '../../src/plugins/response-cache.ts'

const entry = (url: string, size: number, expiresAt = Number.POSITIVE_INFINITY, keepUntil = expiresAt): CacheEntry => ({
  url,
  status: 200,
  headers: {},
  body: Buffer.alloc(0),
  etag: undefined,
  lastModified: undefined,
  storedAt: 0,
  expiresAt,
  staleWhileRevalidateMs: 0,
  staleIfErrorMs: 0,
  keepUntil,
  initialAge: 0,
  size,
})

test('evicts the least recently used entries past max_size, a lookup counting as a use', () => {
  const cache = new ResponseCache(300)
  cache.set('a', entry('h/a', 100))
  cache.set('b', entry('h/b', 100))
  cache.set('c', entry('h/c', 100))
  assert.ok(cache.get('a', 0))
  cache.set('d', entry('h/d', 100))
  assert.equal(cache.get('b', 0), undefined)
  assert.ok(cache.get('a', 0) && cache.get('c', 0) && cache.get('d', 0))
  assert.equal(cache.size, 300)
  cache.set('huge', entry('h/huge', 301))
  assert.equal(cache.get('huge', 0), undefined)
  assert.equal(cache.size, 300)
})

test('drops entries past their keepUntil on lookup and on sweep', () => {
  const cache = new ResponseCache(1000)
  cache.set('a', entry('h/a', 10, 100))
  cache.set('b', entry('h/b', 10, 200))
  assert.ok(cache.get('a', 99))
  assert.equal(cache.get('a', 100), undefined)
  cache.sweep(200)
  assert.equal(cache.size, 0)
})

test('keeps a stale entry until its keepUntil, reported as not fresh', () => {
  const cache = new ResponseCache(1000)
  cache.set('a', entry('h/a', 10, 100, 500))
  const stale = cache.get('a', 300)
  assert.ok(stale)
  assert.equal(isFresh(stale, 300), false)
  assert.equal(isFresh(stale, 99), true)
  cache.sweep(499)
  assert.equal(cache.size, 10)
  cache.sweep(500)
  assert.equal(cache.size, 0)
})

test('purges every variant of a URL, and every URL under a prefix', () => {
  const cache = new ResponseCache(1000)
  cache.set('h/x\nen', entry('h/x', 10))
  cache.set('h/x\nfr', entry('h/x', 10))
  cache.set('h/p/1', entry('h/p/1', 10))
  cache.set('h/p/2?q=1', entry('h/p/2?q=1', 10))
  cache.set('h/q', entry('h/q', 10))
  assert.equal(cache.deleteUrl('h/x'), 2)
  assert.equal(cache.deletePrefix('h/p/'), 2)
  assert.equal(cache.size, 10)
  assert.ok(cache.get('h/q', 0))
})

const limits = { defaultTtlMs: 5000, maxTtlMs: 3_600_000, vary: new Set(['accept-language']) }
const NOW = Date.parse('2026-01-01T00:00:00Z')
const cases: Array<[string, number, string[], boolean, number]> = [
  ['max-age', 200, ['Cache-Control', 'max-age=60'], false, 60_000],
  ['s-maxage wins over max-age', 200, ['Cache-Control', 'max-age=60, s-maxage=10'], false, 10_000],
  ['Age is subtracted', 200, ['Cache-Control', 'max-age=60', 'Age', '50'], false, 10_000],
  ['max_ttl caps', 200, ['Cache-Control', 'max-age=999999'], false, 3_600_000],
  ['Expires minus Date', 200, ['Expires', 'Thu, 01 Jan 2026 00:01:00 GMT', 'Date', 'Thu, 01 Jan 2026 00:00:30 GMT'], false, 30_000],
  ['an invalid Expires is expired', 200, ['Expires', '0'], false, 0],
  ['default_ttl without freshness', 200, [], false, 5000],
  ['no default for a 500', 500, [], false, 0],
  ['explicit freshness on a 500', 500, ['Cache-Control', 'max-age=5'], false, 5000],
  ['no-store', 200, ['Cache-Control', 'no-store, max-age=60'], false, 0],
  ['private', 200, ['Cache-Control', 'private, max-age=60'], false, 0],
  ['no-cache', 200, ['Cache-Control', 'no-cache'], false, 0],
  ['Set-Cookie', 200, ['Cache-Control', 'max-age=60', 'Set-Cookie', 'a=1'], false, 0],
  ['Vary on a keyed header', 200, ['Cache-Control', 'max-age=60', 'Vary', 'Accept-Language'], false, 60_000],
  ['Vary on another header', 200, ['Cache-Control', 'max-age=60', 'Vary', 'Accept-Language, User-Agent'], false, 0],
  ['Vary *', 200, ['Cache-Control', 'max-age=60', 'Vary', '*'], false, 0],
  ['Authorization without public', 200, ['Cache-Control', 'max-age=60'], true, 0],
  ['Authorization with public', 200, ['Cache-Control', 'public, max-age=60'], true, 60_000],
]

test('computes freshness as a shared cache', () => {
  for (const [name, status, headers, auth, expected] of cases) {
    assert.equal(freshnessMs({ status, headers }, auth, limits, NOW), expected, name)
  }
})

const staleCases: Array<[string, string | undefined, number, number]> = [
  ['configured defaults', undefined, 7000, 9000],
  ['the response directives win', 'max-age=60, stale-while-revalidate=30, stale-if-error=600', 30_000, 600_000],
  ['must-revalidate forbids stale', 'max-age=60, must-revalidate, stale-if-error=600', 0, 0],
  ['proxy-revalidate forbids stale', 'max-age=60, proxy-revalidate', 0, 0],
  ['s-maxage implies proxy-revalidate', 's-maxage=60, stale-if-error=600', 0, 0],
]

test('computes stale-while-revalidate and stale-if-error windows (RFC 5861)', () => {
  for (const [name, cc, swr, sie] of staleCases) {
    const head = { status: 200, headers: cc === undefined ? [] : ['Cache-Control', cc] }
    assert.deepEqual(staleWindows(head, { whileRevalidateMs: 7000, ifErrorMs: 9000 }), { whileRevalidateMs: swr, ifErrorMs: sie }, name)
  }
})

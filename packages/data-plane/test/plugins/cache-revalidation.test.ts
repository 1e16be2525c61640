// The cache's revalidation pieces: header updates from a 304 (RFC 9111 3.2, 4.3.4), client
// conditionals against a stored entry (RFC 9110 13.2.2), the stored-body transform, and the
// miss coalescer.
import assert from 'node:assert/strict'
import { text } from 'node:stream/consumers'
import { test } from 'node:test'
import { flattenHeaders, isNotModified, matchesEtag, mergeNotModified, storeHeaders } from '../../src/plugins/cache-headers.ts'
import { MissCoalescer } from '../../src/plugins/miss-coalescer.ts'
import { StoredBody } from '../../src/plugins/stored-body.ts'

test('a 304 replaces stored fields by name, keeping the body framing and dropping Age', () => {
  const stored = {
    'Content-Type': ['text/plain'],
    'Content-Length': ['5'],
    ETag: ['"v1"'],
    'Cache-Control': ['max-age=1'],
    'X-Old': ['kept'],
  }
  const merged = mergeNotModified(stored, ['cache-control', 'max-age=60', 'content-length', '0', 'age', '3', 'x-new', 'a', 'x-new', 'b'])
  assert.deepEqual(merged.headers, {
    'Content-Type': ['text/plain'],
    'Content-Length': ['5'],
    ETag: ['"v1"'],
    'X-Old': ['kept'],
    'cache-control': ['max-age=60'],
    'x-new': ['a', 'b'],
  })
  assert.ok(merged.bytes > 0)
})

test('stores headers without Age and X-Cache, and flattens them back in order', () => {
  const { headers } = storeHeaders(['A', '1', 'age', '5', 'X-Cache', 'HIT', 'A', '2', 'b', '3'])
  assert.deepEqual(headers, { A: ['1', '2'], b: ['3'] })
  assert.deepEqual(flattenHeaders(headers), ['A', '1', 'A', '2', 'b', '3'])
})

const conditionalCases: Array<[string, string | undefined, string | undefined, boolean]> = [
  ['no conditional', undefined, undefined, false],
  ['matching ETag', '"v1"', undefined, true],
  ['one of a list', '"x", "v1"', undefined, true],
  ['weak comparison', 'W/"v1"', undefined, true],
  ['star', '*', undefined, true],
  ['other ETag', '"v2"', undefined, false],
  ['If-None-Match decides over If-Modified-Since', '"v2"', 'Fri, 01 Jan 2100 00:00:00 GMT', false],
  ['modified before the date', undefined, 'Fri, 01 Jan 2100 00:00:00 GMT', true],
  ['same second', undefined, 'Thu, 01 Jan 2026 00:00:00 GMT', true],
  ['modified after the date', undefined, 'Wed, 31 Dec 2025 00:00:00 GMT', false],
  ['an unparsable date', undefined, 'yesterday', false],
]

test('evaluates client conditionals against a stored entry', () => {
  const entry = { etag: '"v1"', lastModified: 'Thu, 01 Jan 2026 00:00:00 GMT' }
  for (const [name, inm, ims, expected] of conditionalCases) assert.equal(isNotModified(inm, ims, entry), expected, name)
  assert.equal(matchesEtag('"v1"', 'W/"v1"'), true)
})

test('replaces whatever is written with the stored body', async () => {
  const body = new StoredBody(Buffer.from('stored'))
  body.write('an error page')
  body.end('!')
  assert.equal(await text(body), 'stored')
})

test('makes the first miss the leader and wakes waiters when it settles', async () => {
  const coalescer = new MissCoalescer()
  const leader = coalescer.lead('k')
  assert.ok(leader)
  assert.equal(coalescer.lead('k'), undefined)
  assert.ok(coalescer.isPending('k'))
  let woken = 0
  const waits = [coalescer.wait('k', 10_000), coalescer.wait('k', 10_000)].map((p) => p.then(() => woken++))
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(woken, 0)
  leader.settle()
  await Promise.all(waits)
  assert.equal(woken, 2)
  assert.equal(coalescer.isPending('k'), false)
  assert.ok(coalescer.lead('k'))
})

test('lets a waiter go after the timeout, and a stale leader cannot settle its successor', async () => {
  const coalescer = new MissCoalescer()
  const first = coalescer.lead('k')
  const started = Date.now()
  await coalescer.wait('k', 50)
  assert.ok(Date.now() - started >= 45)
  first?.settle()
  const second = coalescer.lead('k')
  first?.settle()
  assert.ok(coalescer.isPending('k'))
  second?.settle()
  assert.equal(coalescer.size, 0)
})

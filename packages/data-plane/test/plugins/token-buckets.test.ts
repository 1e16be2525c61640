import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createTokenBuckets } from '../../src/plugins/token-buckets.ts'

test('a bucket allows its burst at once, then refills at its rate', () => {
  const buckets = createTokenBuckets(2, 3, 10)
  const at0 = [1, 2, 3, 4].map(() => buckets.take('k', 0).allowed)
  assert.deepEqual(at0, [true, true, true, false])
  assert.equal(buckets.take('k', 499).allowed, false)
  assert.equal(buckets.take('k', 500).allowed, true)
})

test('a refused take reports the seconds until the next token and until the bucket is full', () => {
  const buckets = createTokenBuckets(0.5, 2, 10)
  buckets.take('k', 0)
  buckets.take('k', 0)
  const refused = buckets.take('k', 0)
  assert.deepEqual(refused, { allowed: false, remaining: 0, resetS: 4, retryAfterS: 2 })
})

test('keys have separate buckets and the oldest key goes past max_keys', () => {
  const buckets = createTokenBuckets(1, 1, 2)
  assert.equal(buckets.take('a', 0).allowed, true)
  assert.equal(buckets.take('b', 0).allowed, true)
  assert.equal(buckets.take('c', 0).allowed, true)
  assert.equal(buckets.size, 2)
  assert.equal(buckets.take('a', 0).allowed, true, 'a was dropped, so it starts full')
})

test('sweep drops buckets that have refilled and keeps the others', () => {
  const buckets = createTokenBuckets(1, 2, 10)
  buckets.take('old', 0)
  buckets.take('new', 1500)
  buckets.sweep(1600)
  assert.equal(buckets.size, 1)
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { uuidV7 } from '../../src/plugins/uuid-v7.ts'

test('uuidV7 has version 7, the RFC 9562 variant and the time in its first 48 bits', () => {
  const now = Date.UTC(2025, 0, 2, 3, 4, 5, 678)
  const id = uuidV7(now)
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  assert.equal(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16), now)
})

test('uuidV7 ids are unique across a refill of the random pool', () => {
  const ids = new Set(Array.from({ length: 1000 }, () => uuidV7(1)))
  assert.equal(ids.size, 1000)
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isStoreError, MAX_TXN_OPS, type Op } from '../src/index.ts'
import { type StoreFixture, withStore } from './contract-fixture.ts'

const KiB = 1024
const MiB = 1024 * KiB

/** Reads, writes, transactions and size limits. */
export function kvContract(fixture: StoreFixture): void {
  test('reads back a put value with its create and mod revisions', () =>
    withStore(fixture, async ({ store }) => {
      assert.equal(await store.get('a'), undefined)
      const first = await store.put('a', 'one')
      const second = await store.put('a', Buffer.from('two'))
      assert.ok(second.revision > first.revision)
      const got = await store.get('a')
      assert.equal(got?.value.toString(), 'two')
      assert.equal(got?.createRevision, first.revision)
      assert.equal(got?.modRevision, second.revision)
    }))

  test('lists the keys under a prefix in byte order, and only those', () =>
    withStore(fixture, async ({ store }) => {
      for (const key of ['d/b', 'd/a', 'd/c/x', 'e/a', 'd']) await store.put(key, key)
      const read = await store.getPrefix('d/')
      assert.deepEqual(
        read.kvs.map((kv) => kv.key),
        ['d/a', 'd/b', 'd/c/x'],
      )
      assert.equal(read.kvs[0]?.value.toString(), 'd/a')
      assert.equal((await store.getPrefix('nothing/')).kvs.length, 0)
    }))

  test('reads a prefix as it was at a pinned revision', () =>
    withStore(fixture, async ({ store }) => {
      await store.put('p/a', 'a1')
      const pinned = (await store.put('p/b', 'b1')).revision
      await store.put('p/a', 'a2')
      await store.delete('p/b')
      await store.put('p/c', 'c1')
      const then = await store.getPrefix('p/', { revision: pinned })
      assert.equal(then.revision, pinned)
      assert.deepEqual(
        then.kvs.map((kv) => `${kv.key}=${kv.value}`),
        ['p/a=a1', 'p/b=b1'],
      )
      const now = await store.getPrefix('p/')
      assert.deepEqual(
        now.kvs.map((kv) => `${kv.key}=${kv.value}`),
        ['p/a=a2', 'p/c=c1'],
      )
    }))

  test('refuses a read at a compacted revision with COMPACTED', () =>
    withStore(fixture, async ({ store }) => {
      const old = (await store.put('c/a', '1')).revision
      const latest = (await store.put('c/a', '2')).revision
      await store.compact(latest)
      await assert.rejects(store.getPrefix('c/', { revision: old }), (err) => isStoreError(err, 'COMPACTED'))
    }))

  test('deletes a key and a prefix, counting what went', () =>
    withStore(fixture, async ({ store }) => {
      for (const key of ['x/1', 'x/2', 'x/3', 'y']) await store.put(key, 'v')
      assert.equal((await store.delete('y')).deleted, 1)
      assert.equal((await store.delete('y')).deleted, 0)
      assert.equal((await store.deletePrefix('x/')).deleted, 3)
      assert.equal((await store.getPrefix('')).kvs.length, 0)
    }))

  test('applies a compare-and-swap txn when the mod revision still matches', () =>
    withStore(fixture, async ({ store }) => {
      const { revision } = await store.put('cas', 'v1')
      const res = await store.txn({
        compares: [{ key: 'cas', target: 'mod', op: '==', value: revision }],
        success: [
          { type: 'put', key: 'cas', value: 'v2' },
          { type: 'put', key: 'other', value: 'o' },
        ],
      })
      assert.equal(res.succeeded, true)
      assert.equal((await store.get('cas'))?.value.toString(), 'v2')
      // Both writes of one txn share one revision.
      assert.equal((await store.get('other'))?.modRevision, res.revision)
      assert.equal((await store.get('cas'))?.modRevision, res.revision)
    }))

  test('runs the failure branch when the mod revision is stale', () =>
    withStore(fixture, async ({ store }) => {
      const stale = (await store.put('cas', 'v1')).revision
      await store.put('cas', 'v2')
      const res = await store.txn({
        compares: [{ key: 'cas', target: 'mod', op: '==', value: stale }],
        success: [{ type: 'put', key: 'cas', value: 'lost update' }],
        failure: [{ type: 'put', key: 'conflicts', value: '1' }],
      })
      assert.equal(res.succeeded, false)
      assert.equal((await store.get('cas'))?.value.toString(), 'v2')
      assert.equal((await store.get('conflicts'))?.value.toString(), '1')
    }))

  test('creates a key only if absent (create revision == 0)', () =>
    withStore(fixture, async ({ store }) => {
      const createOnce = (value: string) =>
        store.txn({ compares: [{ key: 'only', target: 'create', op: '==', value: 0 }], success: [{ type: 'put', key: 'only', value }] })
      assert.equal((await createOnce('first')).succeeded, true)
      assert.equal((await createOnce('second')).succeeded, false)
      assert.equal((await store.get('only'))?.value.toString(), 'first')
    }))

  test('compares values, and a value compare on an absent key fails', () =>
    withStore(fixture, async ({ store }) => {
      await store.put('v', 'blue')
      const when = async (key: string, op: '==' | '!=', value: string) =>
        (await store.txn({ compares: [{ key, target: 'value', op, value }], success: [] })).succeeded
      assert.equal(await when('v', '==', 'blue'), true)
      assert.equal(await when('v', '!=', 'blue'), false)
      assert.equal(await when('missing', '!=', 'blue'), false)
    }))

  test('refuses a txn that writes one key twice or has too many ops with INVALID', () =>
    withStore(fixture, async ({ store }) => {
      const twice: Op[] = [
        { type: 'put', key: 'k', value: '1' },
        { type: 'put', key: 'k', value: '2' },
      ]
      await assert.rejects(store.txn({ compares: [], success: twice }), (err) => isStoreError(err, 'INVALID'))
      const many: Op[] = Array.from({ length: MAX_TXN_OPS + 1 }, (_, i) => ({ type: 'put', key: `k${i}`, value: '' }))
      await assert.rejects(store.txn({ compares: [], success: many }), (err) => isStoreError(err, 'INVALID'))
    }))

  test('round-trips a 1 MiB value', () =>
    withStore(fixture, async ({ store }) => {
      const big = Buffer.alloc(MiB, 7)
      big.write('start', 0)
      big.write('end', MiB - 3)
      await store.put('big', big)
      assert.ok((await store.get('big'))?.value.equals(big))
      assert.ok((await store.getPrefix('big')).kvs[0]?.value.equals(big))
    }))

  test('reads a prefix larger than 4 MiB (6 values of 900 KiB)', () =>
    withStore(fixture, async ({ store }) => {
      for (let i = 0; i < 6; i++) await store.put(`blob/${i}`, Buffer.alloc(900 * KiB, i))
      const read = await store.getPrefix('blob/')
      assert.equal(read.kvs.length, 6)
      read.kvs.forEach((kv, i) => {
        assert.equal(kv.value.length, 900 * KiB)
        assert.equal(kv.value[0], i)
      })
    }))

  test('fails an oversized put with TOO_LARGE and keeps serving the next small get', () =>
    withStore(fixture, async ({ store }) => {
      await store.put('small', 'ok')
      await assert.rejects(store.put('huge', Buffer.alloc(1.6 * MiB)), (err) => isStoreError(err, 'TOO_LARGE'))
      assert.equal((await store.get('small'))?.value.toString(), 'ok')
      assert.equal(await store.get('huge'), undefined)
    }))
}

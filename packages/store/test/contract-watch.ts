import assert from 'node:assert/strict'
import { test } from 'node:test'
import { waitFor } from '@fleetgate/testkit'
import { collect, collectFromNow, describeEvents, type StoreFixture, withStore } from './contract-fixture.ts'

/** Watches: order, replay, resume after a disconnect, resync after compaction. */
export function watchContract(fixture: StoreFixture): void {
  const serverOnly = fixture.hasServer ? {} : { skip: 'no server connection to lose' }

  test('delivers puts and deletes under a prefix in order, a txn as one revision', () =>
    withStore(fixture, async ({ store }) => {
      const seen = await collectFromNow(store, 'w/', { prefix: true })
      const r1 = (await store.put('w/a', '1')).revision
      await store.put('x', 'not watched')
      const r3 = (await store.put('w/b', '2')).revision
      const r4 = (await store.delete('w/a')).revision
      const r5 = (
        await store.txn({
          compares: [],
          success: [
            { type: 'put', key: 'w/c', value: '3' },
            { type: 'delete', key: 'w/b' },
          ],
        })
      ).revision
      await seen.waitForEvents(5)
      assert.deepEqual(describeEvents(seen.events), [
        `put w/a=1@${r1}`,
        `put w/b=2@${r3}`,
        `delete w/a=@${r4}`,
        `put w/c=3@${r5}`,
        `delete w/b=@${r5}`,
      ])
      await seen.close()
    }))

  test('a watch with no fromRevision delivers the changes made once the server has it, in order', () =>
    withStore(fixture, async ({ store }) => {
      const seen = collect(store, 'n/', { prefix: true })
      // When the server has the watch is not known to the caller: write until a write shows.
      let puts = 0
      await waitFor('a write seen by the watch', async () => {
        await store.put('n/k', String(++puts))
        return seen.events.length > 0
      })
      const first = Number(seen.events[0]?.value.toString())
      await store.put('n/k', 'last')
      await waitFor('the last write', () => seen.events.at(-1)?.value.toString() === 'last')
      const expected = [...Array.from({ length: puts - first + 1 }, (_, i) => String(first + i)), 'last']
      assert.deepEqual(
        seen.events.map((e) => e.value.toString()),
        expected,
      )
      await seen.close()
    }))

  test('watches one key without the keys it prefixes', () =>
    withStore(fixture, async ({ store }) => {
      const seen = await collectFromNow(store, 'k')
      await store.put('k2', 'sibling')
      await store.put('k', 'mine')
      await store.put('k/child', 'child')
      await store.put('k', 'mine again')
      await seen.waitForEvents(2)
      assert.deepEqual(
        seen.events.map((e) => e.value.toString()),
        ['mine', 'mine again'],
      )
      await seen.close()
    }))

  test('replays the changes since a past revision', () =>
    withStore(fixture, async ({ store }) => {
      await store.put('r/a', 'before')
      const from = (await store.put('r/a', 'one')).revision
      await store.put('r/b', 'two')
      await store.delete('r/a')
      const seen = collect(store, 'r/', { prefix: true, fromRevision: from })
      await store.put('r/c', 'live')
      await seen.waitForEvents(4)
      assert.deepEqual(
        seen.events.map((e) => `${e.type}:${e.value}`),
        ['put:one', 'put:two', 'delete:', 'put:live'],
      )
      assert.equal(seen.resyncs, 0)
      await seen.close()
    }))

  test('signals a resync when asked to watch from a compacted revision, then keeps watching', () =>
    withStore(fixture, async ({ store }) => {
      const from = (await store.put('c/a', '1')).revision
      const latest = (await store.put('c/a', '2')).revision
      await store.compact(latest)
      const seen = collect(store, 'c/', { prefix: true, fromRevision: from })
      await waitFor('a resync', () => seen.resyncs === 1)
      await store.put('c/a', '3')
      await waitFor('the next write', () => seen.events.some((e) => e.value.toString() === '3'))
      await seen.close()
    }))

  test('resumes a watch across a server restart without losing writes made as it came back', serverOnly, () =>
    withStore(fixture, async ({ store, restartBackend, side }) => {
      const seen = await collectFromNow(store, 'w/', { prefix: true })
      await store.put('w/1', '1')
      await seen.waitForEvents(1)
      await restartBackend?.()
      await side?.put('w/2', '2')
      await side?.put('w/3', '3')
      await waitFor('a put after the restart', () => store.put('w/4', '4'))
      await seen.waitForEvents(4)
      assert.deepEqual(
        seen.events.map((e) => e.value.toString()),
        ['1', '2', '3', '4'],
      )
      assert.equal(seen.resyncs, 0)
      await seen.close()
    }),
  )

  test('resumes a watch from its last event after being cut off, delivering the writes made meanwhile', serverOnly, () =>
    withStore(fixture, async ({ store, whileCutOff }) => {
      const seen = await collectFromNow(store, 'w/', { prefix: true })
      await store.put('w/1', '1')
      await seen.waitForEvents(1)
      await whileCutOff?.(async (side) => {
        await side.put('w/2', '2')
        await side.put('other', 'x')
        await side.put('w/3', '3')
      })
      await seen.waitForEvents(3)
      assert.deepEqual(
        seen.events.map((e) => e.value.toString()),
        ['1', '2', '3'],
      )
      assert.equal(seen.resyncs, 0)
      await seen.close()
    }),
  )

  test('signals a resync when history it missed was compacted while cut off', serverOnly, () =>
    withStore(fixture, async ({ store, whileCutOff }) => {
      const seen = await collectFromNow(store, 'w/', { prefix: true })
      await store.put('w/1', '1')
      await seen.waitForEvents(1)
      await whileCutOff?.(async (side) => {
        await side.put('w/2', '2')
        await side.compact(await side.put('w/3', '3'))
      })
      await waitFor('a resync', () => seen.resyncs === 1, 15_000)
      await waitFor('a put after the cut-off', () => store.put('w/4', '4'))
      await waitFor('the write after the resync', () => seen.events.some((e) => e.value.toString() === '4'))
      await seen.close()
    }),
  )
}

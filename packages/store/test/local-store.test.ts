import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { createLocalStore, isStoreError } from '../src/index.ts'
import { storeContract } from './contract.ts'
import { collect, type StoreFixture } from './contract-fixture.ts'

const root = await mkdtemp(join(tmpdir(), 'fleetgate-local-store-'))
let dirs = 0
const freshDir = () => join(root, `store-${++dirs}`)

/** Blocks the whole thread, timers included, as a stalled process would. */
function stallEventLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

const fixture: StoreFixture = {
  hasServer: false,
  shortTtl: 1,
  async open() {
    const store = await createLocalStore({ dir: freshDir() })
    return {
      store,
      // A keep-alive that runs later than the TTL finds the lease expired, as on etcd.
      loseLeases: async (ttl) => stallEventLoop(ttl * 1000 + 700),
      close: () => store.close(),
    }
  },
}

describe('local store', () => {
  after(() => rm(root, { recursive: true, force: true }))

  storeContract(fixture)

  test('keeps keys and the revision across a reopen', async () => {
    const dir = freshDir()
    const first = await createLocalStore({ dir })
    await first.put('a/b', 'kept')
    await first.put('gone', 'x')
    const { revision } = await first.delete('gone')
    await first.close()
    const second = await createLocalStore({ dir })
    try {
      assert.equal((await second.get('a/b'))?.value.toString(), 'kept')
      assert.equal(await second.get('gone'), undefined)
      assert.ok((await second.put('next', 'y')).revision > revision)
    } finally {
      await second.close()
    }
  })

  test('drops keys of leases from an earlier run when reopened', async () => {
    const dir = freshDir()
    const first = await createLocalStore({ dir })
    const lease = await first.lease(60)
    await lease.put('nodes/n1', 'up')
    await first.put('plain', 'stays')
    await first.close()
    const second = await createLocalStore({ dir })
    try {
      assert.equal(await second.get('nodes/n1'), undefined)
      assert.equal((await second.get('plain'))?.value.toString(), 'stays')
    } finally {
      await second.close()
    }
  })

  test('refuses a second open of the same folder with LOCKED', async () => {
    const dir = freshDir()
    const store = await createLocalStore({ dir })
    try {
      await assert.rejects(createLocalStore({ dir }), (err) => isStoreError(err, 'LOCKED'))
    } finally {
      await store.close()
    }
  })

  test('stores awkward keys inside its folder and reads them back after a reopen', async () => {
    const dir = freshDir()
    const keys = ['a', 'a/b', 'a.d', 'a.kv/x', '../escape', '/abs', 'x//y/', '.hidden', 'ünï/çødé', 'sp ace/%41', '']
    const first = await createLocalStore({ dir })
    for (const key of keys) await first.put(key, `v:${key}`)
    await first.close()
    assert.deepEqual((await readdir(dir)).sort(), ['keys', 'revision', 'tmp'])
    const second = await createLocalStore({ dir })
    try {
      const all = await second.getPrefix('')
      assert.deepEqual(all.kvs.map((kv) => kv.key).sort(), [...keys].sort())
      for (const kv of all.kvs) assert.equal(kv.value.toString(), `v:${kv.key}`)
    } finally {
      await second.close()
    }
  })

  test('keeps every key of a full txn, and a folder emptied and refilled in one txn, across a reopen', async () => {
    const dir = freshDir()
    const first = await createLocalStore({ dir })
    await first.put('solo/old', 'x')
    const puts = Array.from({ length: 126 }, (_, i) => ({ type: 'put' as const, key: `many/${i}`, value: `v${i}` }))
    const success = [{ type: 'delete' as const, key: 'solo/old' }, { type: 'put' as const, key: 'solo/new', value: 'y' }, ...puts]
    assert.equal((await first.txn({ compares: [], success })).succeeded, true)
    await first.close()
    const second = await createLocalStore({ dir })
    try {
      const all = await second.getPrefix('')
      assert.deepEqual(
        all.kvs.map((kv) => `${kv.key}=${kv.value}`).sort(),
        ['solo/new=y', ...puts.map((p) => `${p.key}=${p.value}`)].sort(),
      )
    } finally {
      await second.close()
    }
  })

  test('finishes a commit that was interrupted after its journal was written', async () => {
    const dir = freshDir()
    const first = await createLocalStore({ dir })
    const { revision } = await first.put('old', 'x')
    await first.close()
    const next = revision + 1
    const change = (key: string, value?: string) =>
      value === undefined ? { key } : { key, next: { v: Buffer.from(value).toString('base64'), c: next, m: next } }
    await writeFile(
      join(dir, 'journal'),
      JSON.stringify({ revision: next, changes: [change('t/1', 'one'), change('t/2', 'two'), change('old')] }),
    )
    const second = await createLocalStore({ dir })
    try {
      const read = await second.getPrefix('')
      assert.deepEqual(
        read.kvs.map((kv) => `${kv.key}=${kv.value}@${kv.modRevision}`),
        [`t/1=one@${next}`, `t/2=two@${next}`],
      )
      assert.equal(read.revision, next)
    } finally {
      await second.close()
    }
  })

  test('forgets history beyond its limit, so watches from before it resync', async () => {
    const store = await createLocalStore({ dir: freshDir(), maxHistoryRevisions: 3 })
    try {
      const from = (await store.put('h', '1')).revision
      for (let i = 2; i <= 5; i++) await store.put('h', String(i))
      const old = collect(store, 'h', { fromRevision: from })
      const recent = collect(store, 'h', { fromRevision: from + 2 })
      await recent.waitForEvents(3)
      assert.equal(old.resyncs, 1)
      assert.equal(old.events.length, 0)
      assert.deepEqual(
        recent.events.map((e) => e.value.toString()),
        ['3', '4', '5'],
      )
      await assert.rejects(store.getPrefix('h', { revision: from }), (err) => isStoreError(err, 'COMPACTED'))
      await old.close()
      await recent.close()
    } finally {
      await store.close()
    }
  })
})

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { type Etcdctl, startEtcd, type TestEtcd } from '@fleetgate/testkit'
import { createEtcdStore, type EtcdStoreOptions, isStoreError, type Store } from '../src/index.ts'
import { type SideChannel, type StoreFixture, storeContract } from './contract.ts'

const KiB = 1024
let etcd: TestEtcd
let spaces = 0

function sideChannel(etcdctl: Etcdctl, prefix: string): SideChannel {
  return {
    async put(key, value) {
      const out = await etcdctl(['put', `${prefix}${key}`, value, '-w', 'json'])
      return (JSON.parse(out) as { header: { revision: number } }).header.revision
    },
    async compact(revision) {
      await etcdctl(['compact', String(revision)])
    },
  }
}

function openStore(extra: Partial<EtcdStoreOptions> = {}): { store: Store; prefix: string } {
  const prefix = `/fleetgate/test-${++spaces}/`
  return { store: createEtcdStore({ endpoints: [etcd.endpoint], prefix, callTimeoutMs: 3000, ...extra }), prefix }
}

const fixture: StoreFixture = {
  hasServer: true,
  shortTtl: 1,
  async open() {
    const { store, prefix } = openStore()
    return {
      store,
      side: sideChannel(etcd.etcdctl, prefix),
      restartBackend: () => etcd.restart(),
      whileCutOff: (fn) => etcd.whileUnreachable((etcdctl) => fn(sideChannel(etcdctl, prefix))),
      // etcd3 declares a lease lost after 2 TTLs without a successful keep-alive.
      loseLeases: (ttl) => etcd.whileUnreachable(() => sleep(ttl * 2000 + 1000)),
      close: () => store.close(),
    }
  },
}

describe('etcd store', () => {
  before(async () => {
    etcd = await startEtcd()
  })
  after(() => etcd.stop())

  storeContract(fixture)

  test('keeps serving small calls right after a response over the receive limit (no retries, no breaker)', async () => {
    const { store } = openStore({ maxReceiveBytes: 512 * KiB })
    try {
      await store.put('small', 'ok')
      await store.put('big', Buffer.alloc(800 * KiB, 1))
      for (let i = 0; i < 4; i++) {
        await assert.rejects(store.get('big'), (err) => isStoreError(err, 'TOO_LARGE'))
      }
      const started = Date.now()
      assert.equal((await store.get('small'))?.value.toString(), 'ok')
      assert.ok(Date.now() - started < 1000, 'the small get was not held back')
    } finally {
      await store.close()
    }
  })

  test('reads a prefix whose pages exceed the receive limit by reading smaller pages', async () => {
    const { store } = openStore({ maxReceiveBytes: 2048 * KiB })
    try {
      for (let i = 0; i < 6; i++) await store.put(`blob/${i}`, Buffer.alloc(900 * KiB, i))
      const read = await store.getPrefix('blob/')
      assert.deepEqual(
        read.kvs.map((kv) => kv.value[0]),
        [0, 1, 2, 3, 4, 5],
      )
    } finally {
      await store.close()
    }
  })
})

import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { createLocalStore, type Store } from '@fleetgate/store'
import { startBackend, type TestBackend, waitFor } from '@fleetgate/testkit'
import type { FleetModeProxy } from '../../src/index.ts'
import { configFor, getStatusPath, getThrough, readNodeKey, startNode, waitForGeneration } from './fleet-fixture.ts'
import { createTestPublisher } from './test-publisher.ts'

let backendA: TestBackend
let backendB: TestBackend
let dir: string
let stores = 0

async function openStore(): Promise<Store> {
  return await createLocalStore({ dir: join(dir, `store-${++stores}`) })
}

describe('fleet data plane on the local store (in-process)', () => {
  before(async () => {
    ;[backendA, backendB] = await Promise.all([startBackend('a'), startBackend('b')])
    dir = await mkdtemp(join(tmpdir(), 'fleetgate-fleet-local-'))
  })
  after(async () => {
    await Promise.all([backendA?.close(), backendB?.close(), rm(dir, { recursive: true, force: true })])
  })

  test('applies generations, NACKs an invalid one, and leaves the fleet on stop', async () => {
    const store = await openStore()
    const publisher = createTestPublisher(store)
    let node: FleetModeProxy | undefined
    try {
      await publisher.publish(configFor(backendA.addr))
      node = await startNode(store, 'local', { pollIntervalMs: 60_000 })
      assert.equal(node.status().generation, 1)
      assert.deepEqual(await getThrough(node), { status: 200, backend: 'a' })
      await publisher.publish(configFor(backendB.addr))
      await waitForGeneration(node, 2)
      assert.deepEqual(await getThrough(node), { status: 200, backend: 'b' })
      await publisher.publish(configFor(backendA.addr, { upstream: 'missing' }))
      const reported = await waitFor('NACK', async () => {
        const value = await readNodeKey(store, 'local')
        return value?.rejected?.gen === 3 ? value : undefined
      })
      assert.equal(reported.applied?.gen, 2)
      assert.deepEqual(await getThrough(node), { status: 200, backend: 'b' })
      await node.stop()
      node = undefined
      assert.equal(await readNodeKey(store, 'local'), undefined)
    } finally {
      await node?.stop()
      await store.close()
    }
  })

  test('serves its cache file on a store with nothing published, and never drops it for a missing current', async () => {
    const cacheFile = join(dir, 'local-cache.json')
    const first = await openStore()
    let node: FleetModeProxy | undefined
    try {
      await createTestPublisher(first).publish(configFor(backendA.addr))
      node = await startNode(first, 'local', { cacheFile })
      await node.stop()
      node = undefined
      await first.close()

      const empty = await openStore()
      try {
        node = await startNode(empty, 'local', { cacheFile, pollIntervalMs: 100 })
        assert.equal(node.status().source, 'cache')
        assert.equal((await getStatusPath(node, '/readyz')).status, 200)
        await new Promise((resolve) => setTimeout(resolve, 500))
        assert.equal(node.status().generation, 1)
        assert.deepEqual(await getThrough(node), { status: 200, backend: 'a' })
        await createTestPublisher(empty, 2).publish(configFor(backendB.addr))
        await waitForGeneration(node, 2)
        assert.equal(node.status().source, 'etcd')
        assert.deepEqual(await getThrough(node), { status: 200, backend: 'b' })
      } finally {
        await node?.stop()
        node = undefined
        await empty.close()
      }
    } finally {
      await node?.stop()
      await first.close()
    }
  })
})

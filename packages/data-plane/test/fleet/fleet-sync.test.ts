import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { storeKeys } from '@fleetgate/schema'
import { createEtcdStore, type Store } from '@fleetgate/store'
import { startBackend, startEtcd, type TestBackend, type TestEtcd, waitFor } from '@fleetgate/testkit'
import type { FleetModeProxy } from '../../src/index.ts'
import { configFor, getStatusPath, getThrough, readNodeKey, startNode, waitForGeneration } from './fleet-fixture.ts'
import { createTestPublisher, type Published } from './test-publisher.ts'

let etcd: TestEtcd
let backendA: TestBackend
let backendB: TestBackend
let clusters = 0

/**
 * A store on a cluster prefix no other test uses, and a publisher on it. After an etcd restart a new
 * client's first calls can fail while gRPC's shared connection backs off, so wait until it answers.
 */
async function openCluster() {
  const prefix = storeKeys.prefix(`sync-${++clusters}`)
  const open = () => createEtcdStore({ endpoints: [etcd.endpoint], prefix, callTimeoutMs: 3000 })
  const store = open()
  await waitFor('etcd answers', async () => (await store.getPrefix('none')) !== undefined, 10_000, 100)
  return { prefix, store, nodeStore: open(), publisher: createTestPublisher(store) }
}

async function closeAll(node: FleetModeProxy | undefined, ...stores: Store[]): Promise<void> {
  await node?.stop()
  for (const store of stores) await store.close()
}

describe('fleet data plane on etcd', () => {
  before(async () => {
    ;[etcd, backendA, backendB] = await Promise.all([startEtcd(), startBackend('a'), startBackend('b')])
  })
  after(async () => {
    await Promise.all([etcd?.stop(), backendA?.close(), backendB?.close()])
  })

  test('applies the published generation, serves it and reports an ACK', async () => {
    const { store, nodeStore, publisher } = await openCluster()
    let node: FleetModeProxy | undefined
    try {
      const gen1 = await publisher.publish(configFor(backendA.addr))
      node = await startNode(nodeStore, 'n1')
      const status = node.status()
      assert.equal(status.generation, 1)
      assert.equal(status.sha256, gen1.sha256)
      assert.equal(status.source, 'etcd')
      assert.equal(status.etcdConnected, true)
      assert.deepEqual(await getThrough(node), { status: 200, backend: 'a' })
      assert.equal((await getStatusPath(node, '/readyz')).status, 200)
      const body = JSON.parse((await getStatusPath(node, '/status')).text)
      assert.equal(body.generation, 1)
      assert.equal(body.etcdConnected, true)
      assert.equal(body.node.id, 'n1')
      const metrics = (await getStatusPath(node, '/metrics')).text
      assert.match(metrics, /^fleetgate_config_generation 1$/m)
      assert.match(metrics, /^fleetgate_config_apply_total\{result="ack"\} 1$/m)
      assert.match(metrics, /^fleetgate_store_connected 1$/m)
      const reported = await waitFor('ACK in nodes/n1', async () => {
        const value = await readNodeKey(store, 'n1')
        return value?.applied?.gen === 1 ? value : undefined
      })
      assert.equal(reported.applied?.sha256, gen1.sha256)
      assert.equal(reported.rejected, null)
      assert.equal(reported.source, 'etcd')
      assert.match(reported.bootId, /^[0-9a-f-]{36}$/)
      assert.match(reported.version, /^\d+\.\d+\.\d+/)
    } finally {
      await closeAll(node, store, nodeStore)
    }
  })

  test('serves each newly published generation', async () => {
    const { store, nodeStore, publisher } = await openCluster()
    let node: FleetModeProxy | undefined
    try {
      await publisher.publish(configFor(backendA.addr))
      node = await startNode(nodeStore, 'n1', { pollIntervalMs: 60_000 })
      await publisher.publish(configFor(backendB.addr))
      await waitForGeneration(node, 2)
      assert.deepEqual(await getThrough(node), { status: 200, backend: 'b' })
      await publisher.publish(configFor(backendA.addr))
      await waitForGeneration(node, 3)
      assert.deepEqual(await getThrough(node), { status: 200, backend: 'a' })
    } finally {
      await closeAll(node, store, nodeStore)
    }
  })

  test('NACKs an invalid generation in nodes/<id> and keeps serving the previous one', async () => {
    const { store, nodeStore, publisher } = await openCluster()
    let node: FleetModeProxy | undefined
    try {
      await publisher.publish(configFor(backendA.addr))
      node = await startNode(nodeStore, 'n1')
      await publisher.publish(configFor(backendB.addr, { upstream: 'missing' }))
      const reported = await waitFor('NACK in nodes/n1', async () => {
        const value = await readNodeKey(store, 'n1')
        return value?.rejected?.gen === 2 ? value : undefined
      })
      assert.match(reported.rejected?.error ?? '', /locations\.root\.upstream/)
      assert.equal(reported.applied?.gen, 1)
      assert.equal(node.status().generation, 1)
      assert.match(node.status().lastError ?? '', /missing/)
      assert.deepEqual(await getThrough(node), { status: 200, backend: 'a' })
      assert.match((await getStatusPath(node, '/metrics')).text, /^fleetgate_config_apply_total\{result="nack"\} 1$/m)
      await publisher.publish(configFor(backendB.addr))
      await waitForGeneration(node, 3)
      assert.deepEqual(await getThrough(node), { status: 200, backend: 'b' })
      assert.equal(node.status().lastError, null)
      await waitFor('rejected cleared after a newer ACK', async () => (await readNodeKey(store, 'n1'))?.rejected === null)
    } finally {
      await closeAll(node, store, nodeStore)
    }
  })

  test('clears its NACK when current goes back to the generation it serves', async () => {
    const { store, nodeStore, publisher } = await openCluster()
    let node: FleetModeProxy | undefined
    try {
      const first = await publisher.publish(configFor(backendA.addr))
      node = await startNode(nodeStore, 'n1')
      await publisher.publish(configFor(backendB.addr, { upstream: 'missing' }))
      await waitFor('NACK in nodes/n1', async () => (await readNodeKey(store, 'n1'))?.rejected?.gen === 2)
      assert.match(node.status().lastError ?? '', /missing/)
      // The bad publish undone by hand (etcdctl put current): the node serves generation 1 again
      // as far as the fleet can tell, so the NACK of 2 no longer stands.
      await store.put(storeKeys.current, JSON.stringify({ gen: first.gen, sha256: first.sha256 }))
      await waitFor('rejected cleared', async () => (await readNodeKey(store, 'n1'))?.rejected === null)
      assert.equal(node.status().lastError, null)
      assert.equal(node.status().generation, 1)
      assert.deepEqual(await getThrough(node), { status: 200, backend: 'a' })
    } finally {
      await closeAll(node, store, nodeStore)
    }
  })

  test('refuses a generation whose blob does not match its sha256', async () => {
    const { store, nodeStore, publisher } = await openCluster()
    let node: FleetModeProxy | undefined
    try {
      await publisher.publish(configFor(backendA.addr))
      node = await startNode(nodeStore, 'n1')
      await publisher.publish(configFor(backendB.addr), { blobOf: configFor(backendB.addr, { upstream: 'other' }) })
      const reported = await waitFor('NACK in nodes/n1', async () => {
        const value = await readNodeKey(store, 'n1')
        return value?.rejected?.gen === 2 ? value : undefined
      })
      assert.match(reported.rejected?.error ?? '', /hash mismatch/)
      assert.equal(node.status().generation, 1)
      assert.deepEqual(await getThrough(node), { status: 200, backend: 'a' })
    } finally {
      await closeAll(node, store, nodeStore)
    }
  })

  test('keeps serving when current is deleted, and applies the next publish', async () => {
    const { store, nodeStore, publisher } = await openCluster()
    let node: FleetModeProxy | undefined
    try {
      await publisher.publish(configFor(backendA.addr))
      node = await startNode(nodeStore, 'n1', { pollIntervalMs: 200 })
      await store.delete(storeKeys.current)
      await sleep(1000) // several polls and the watch's delete event
      assert.equal(node.status().generation, 1)
      assert.deepEqual(await getThrough(node), { status: 200, backend: 'a' })
      assert.equal((await getStatusPath(node, '/readyz')).status, 200)
      await publisher.publish(configFor(backendB.addr))
      await waitForGeneration(node, 2)
      assert.deepEqual(await getThrough(node), { status: 200, backend: 'b' })
    } finally {
      await closeAll(node, store, nodeStore)
    }
  })

  test('starts with nothing published: not ready, then serves the first publish', async () => {
    const { store, nodeStore, publisher } = await openCluster()
    let node: FleetModeProxy | undefined
    try {
      node = await startNode(nodeStore, 'n1', { pollIntervalMs: 60_000 })
      assert.equal(node.status().generation, null)
      assert.equal((await getStatusPath(node, '/readyz')).status, 503)
      assert.equal((await getStatusPath(node, '/livez')).status, 200)
      await publisher.publish(configFor(backendA.addr))
      await waitForGeneration(node, 1)
      assert.equal((await getStatusPath(node, '/readyz')).status, 200)
    } finally {
      await closeAll(node, store, nodeStore)
    }
  })

  test('applies a new generation after the history it watches is compacted', async () => {
    const { store, nodeStore, publisher } = await openCluster()
    let node: FleetModeProxy | undefined
    try {
      await publisher.publish(configFor(backendA.addr))
      node = await startNode(nodeStore, 'n1', { pollIntervalMs: 60_000 })
      const gen2 = await publisher.publish(configFor(backendB.addr))
      await waitForGeneration(node, 2)
      await etcd.etcdctl(['compact', String(gen2.revision)])
      await publisher.publish(configFor(backendA.addr))
      await waitForGeneration(node, 3)
      assert.deepEqual(await getThrough(node), { status: 200, backend: 'a' })
    } finally {
      await closeAll(node, store, nodeStore)
    }
  })

  test('removes nodes/<id> on stop', async () => {
    const { store, nodeStore, publisher } = await openCluster()
    let node: FleetModeProxy | undefined
    try {
      await publisher.publish(configFor(backendA.addr))
      node = await startNode(nodeStore, 'n1')
      await waitFor('nodes/n1', async () => (await readNodeKey(store, 'n1'))?.applied?.gen === 1)
      await node.stop()
      node = undefined
      assert.equal(await readNodeKey(store, 'n1'), undefined)
    } finally {
      await closeAll(node, store, nodeStore)
    }
  })

  test('coalesces generations published while it was cut off into the newest one', async () => {
    const { prefix, store, nodeStore, publisher } = await openCluster()
    let node: FleetModeProxy | undefined
    try {
      await publisher.publish(configFor(backendA.addr))
      node = await startNode(nodeStore, 'n1', { pollIntervalMs: 60_000 })
      const staged: Published[] = []
      for (let i = 0; i < 5; i++)
        staged.push(await publisher.publish(configFor(i % 2 === 0 ? backendB.addr : backendA.addr), { stageOnly: true }))
      await etcd.whileUnreachable(async (etcdctl) => {
        for (const { gen, sha256 } of staged) await etcdctl(['put', `${prefix}current`, JSON.stringify({ gen, sha256 })])
      })
      await waitForGeneration(node, 6, 20_000)
      const acks = /^fleetgate_config_apply_total\{result="ack"\} (\d+)$/m.exec((await getStatusPath(node, '/metrics')).text)?.[1]
      assert.ok(Number(acks) < 6, `expected generations to be skipped, but all ${acks} were applied`)
      assert.deepEqual(await getThrough(node), { status: 200, backend: 'b' })
    } finally {
      await closeAll(node, store, nodeStore)
    }
  })

  test('re-reads current when its watch resumes into compacted history (cut off meanwhile)', async () => {
    const { prefix, store, nodeStore, publisher } = await openCluster()
    let node: FleetModeProxy | undefined
    try {
      await publisher.publish(configFor(backendA.addr))
      node = await startNode(nodeStore, 'n1', { pollIntervalMs: 60_000 })
      // Blobs and manifest of generation 2 go in first; only the flip of `current` happens while the node is cut off.
      const gen2 = await publisher.publish(configFor(backendB.addr), { stageOnly: true })
      await etcd.whileUnreachable(async (etcdctl) => {
        await etcdctl(['put', `${prefix}current`, JSON.stringify({ gen: 2, sha256: gen2.sha256 })])
        const out = await etcdctl(['put', `${prefix}filler`, 'x', '-w', 'json'])
        await etcdctl(['compact', String((JSON.parse(out) as { header: { revision: number } }).header.revision)])
      })
      await waitForGeneration(node, 2, 20_000)
      assert.deepEqual(await getThrough(node), { status: 200, backend: 'b' })
    } finally {
      await closeAll(node, store, nodeStore)
    }
  })
})

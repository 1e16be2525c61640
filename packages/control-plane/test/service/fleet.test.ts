import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { type NodeStatus, storeKeys } from '@fleetgate/schema'
import { backends, withService } from './service-fixture.ts'

const NOW = Date.parse('2025-06-01T12:00:00Z')

function nodeStatus(id: string, updatedAt: number, extra: Partial<NodeStatus> = {}): NodeStatus {
  return {
    id,
    bootId: `boot-${id}`,
    address: `10.0.0.${id.length}:8080`,
    version: 'fleetgate 0.1.0',
    startedAt: new Date(NOW - 3_600_000).toISOString(),
    applied: { gen: 7, sha256: 'a'.repeat(64), at: new Date(NOW - 60_000).toISOString() },
    rejected: null,
    source: 'etcd',
    etcdConnected: true,
    updatedAt: new Date(updatedAt).toISOString(),
    ...extra,
  }
}

for (const backend of backends()) {
  describe(`config service fleet view (${backend.name} store)`, () => {
    before(() => backend.setup())
    after(() => backend.teardown())

    test('lists the nodes reporting under their leases, marks silent ones stale, and drops them when the lease ends', async () => {
      const options = { heartbeatMs: 10_000, now: () => new Date(NOW) }
      await withService(backend, options, async ({ store, service }) => {
        const lease = await store.lease(30)
        const rejected = { gen: 8, error: 'locations.x.upstream: unknown upstream', at: new Date(NOW - 5_000).toISOString() }
        await lease.put(storeKeys.node('node-a'), JSON.stringify(nodeStatus('node-a', NOW - 5_000)))
        await lease.put(storeKeys.node('node-b'), JSON.stringify(nodeStatus('node-b', NOW - 31_000, { rejected, address: null })))
        const { nodes } = await service.fleet()
        assert.deepEqual(nodes, [
          {
            id: 'node-a',
            address: '10.0.0.6:8080',
            version: 'fleetgate 0.1.0',
            applied: { generation: 7, sha256: 'a'.repeat(64), at: new Date(NOW - 60_000).toISOString() },
            rejected: null,
            lastSeen: new Date(NOW - 5_000).toISOString(),
            stale: false,
          },
          {
            id: 'node-b',
            address: null,
            version: 'fleetgate 0.1.0',
            applied: { generation: 7, sha256: 'a'.repeat(64), at: new Date(NOW - 60_000).toISOString() },
            rejected: { generation: 8, error: rejected.error, at: rejected.at },
            lastSeen: new Date(NOW - 31_000).toISOString(),
            stale: true,
          },
        ])
        await lease.revoke()
        assert.deepEqual((await service.fleet()).nodes, [])
      })
    })

    test('skips a node value that is not a status report instead of failing the whole view', async () => {
      await withService(backend, { now: () => new Date(NOW) }, async ({ store, service }) => {
        await store.put(storeKeys.node('garbled'), 'not json')
        await store.put(storeKeys.node('good'), JSON.stringify(nodeStatus('good', NOW)))
        assert.deepEqual(
          (await service.fleet()).nodes.map((n) => n.id),
          ['good'],
        )
      })
    })
  })
}

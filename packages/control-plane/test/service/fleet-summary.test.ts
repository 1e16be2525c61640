import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { type NodeFigures, type NodeStatus, storeKeys } from '@fleetgate/schema'
import { backends, withService } from './service-fixture.ts'

const NOW = Date.parse('2025-06-01T12:00:00Z')

function figures(requests: number, r5xx: number, rps: number, p99Ms: number | null, rssBytes: number): NodeFigures {
  return {
    requests,
    responses: { '1xx': 0, '2xx': requests - r5xx, '3xx': 0, '4xx': 0, '5xx': r5xx },
    gatewayErrors: r5xx,
    bytesOut: requests * 100,
    activeRequests: 1,
    rssBytes,
    uptimeSeconds: 60,
    recent: { seconds: 10, requests: rps * 10, responses5xx: r5xx, requestsPerSecond: rps, p50Ms: 1, p99Ms, meanMs: 2 },
  }
}

function nodeStatus(id: string, updatedAt: number, extra: Partial<NodeStatus> = {}): NodeStatus {
  return {
    id,
    bootId: `boot-${id}`,
    address: null,
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
  describe(`config service fleet summary (${backend.name} store)`, () => {
    before(() => backend.setup())
    after(() => backend.teardown())

    test('sums the figures of fresh nodes, counts every node by state, and lists malformed figures as absent', async () => {
      await withService(backend, { heartbeatMs: 10_000, now: () => new Date(NOW) }, async ({ store, service }) => {
        await store.put(storeKeys.current, JSON.stringify({ gen: 7 }))
        await store.put(storeKeys.node('a'), JSON.stringify(nodeStatus('a', NOW, { figures: figures(100, 2, 5, 12.5, 50_000_000) })))
        await store.put(storeKeys.node('b'), JSON.stringify(nodeStatus('b', NOW, { figures: figures(300, 6, 15, 40, 70_000_000) })))
        // Stale: counted by state, its figures listed but not summed.
        await store.put(storeKeys.node('c'), JSON.stringify(nodeStatus('c', NOW - 60_000, { figures: figures(9, 9, 99, 999, 1) })))
        const bad = { ...figures(1, 0, 1, 1, 1), requests: 'many' } as unknown as NodeFigures
        await store.put(storeKeys.node('d'), JSON.stringify(nodeStatus('d', NOW, { applied: null, figures: bad })))
        const view = await service.fleet()
        assert.deepEqual(
          view.nodes.map((n) => [n.id, n.figures?.requests]),
          [
            ['a', 100],
            ['b', 300],
            ['c', 9],
            ['d', undefined],
          ],
        )
        assert.deepEqual(view.summary, {
          nodes: { total: 4, current: 2, behind: 1, rejected: 0, stale: 1 },
          reporting: 2,
          requestsPerSecond: 20,
          errorRatio5xx: 0.04,
          maxP99Ms: 40,
          requests: 400,
          responses5xx: 8,
          activeRequests: 2,
          rssBytes: 120_000_000,
        })
      })
    })

    test('an empty fleet has a zero summary with no ratio and no p99', async () => {
      await withService(backend, { now: () => new Date(NOW) }, async ({ service }) => {
        const { summary } = await service.fleet()
        assert.deepEqual(summary.nodes, { total: 0, current: 0, behind: 0, rejected: 0, stale: 0 })
        assert.equal(summary.requestsPerSecond, 0)
        assert.equal(summary.errorRatio5xx, null)
        assert.equal(summary.maxP99Ms, null)
      })
    })
  })
}

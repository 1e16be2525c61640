import { type NodeStatus, storeKeys } from '@fleetgate/schema'
import type { Store } from '@fleetgate/store'
import type { FleetNode } from './service-types.ts'

/** How the fleet view judges staleness. */
export interface FleetViewOptions {
  /** The data planes' heartbeat; a node not heard from for 3 of them is stale. */
  heartbeatMs: number
  now: () => number
}

/**
 * The data planes as they report themselves in `nodes/` (each key under its node's lease, so a node
 * whose lease ended is simply absent). Values that are not a NodeStatus are skipped: a node's bad
 * report must not hide the rest of the fleet.
 */
export async function readFleet(store: Store, options: FleetViewOptions): Promise<{ nodes: FleetNode[] }> {
  const read = await store.getPrefix(storeKeys.nodesPrefix)
  const nodes: FleetNode[] = []
  for (const kv of read.kvs) {
    const status = parseStatus(kv.value.toString('utf8'))
    if (status) nodes.push(toFleetNode(kv.key.slice(storeKeys.nodesPrefix.length), status, options))
  }
  return { nodes: nodes.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) }
}

function parseStatus(text: string): NodeStatus | undefined {
  try {
    const value = JSON.parse(text) as NodeStatus
    return value && typeof value === 'object' && typeof value.updatedAt === 'string' ? value : undefined
  } catch {
    return undefined
  }
}

function toFleetNode(keyId: string, s: NodeStatus, options: FleetViewOptions): FleetNode {
  const seen = Date.parse(s.updatedAt)
  return {
    id: s.id || keyId,
    address: s.address ?? null,
    version: s.version ?? null,
    applied: s.applied ? { generation: s.applied.gen, sha256: s.applied.sha256, at: s.applied.at } : null,
    rejected: s.rejected ? { generation: s.rejected.gen, error: s.rejected.error, at: s.rejected.at } : null,
    lastSeen: s.updatedAt,
    stale: !Number.isFinite(seen) || options.now() - seen > 3 * options.heartbeatMs,
  }
}

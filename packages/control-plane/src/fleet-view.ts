import { type NodeFigures, type NodeStatus, storeKeys } from '@fleetgate/schema'
import type { Store } from '@fleetgate/store'
import { summarizeFleet } from './fleet-summary.ts'
import type { FleetNode, FleetView } from './service-types.ts'

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
export async function readFleet(store: Store, options: FleetViewOptions): Promise<FleetView> {
  const [read, current] = await Promise.all([store.getPrefix(storeKeys.nodesPrefix), store.get(storeKeys.current)])
  const nodes: FleetNode[] = []
  for (const kv of read.kvs) {
    const status = parseStatus(kv.value.toString('utf8'))
    if (status) nodes.push(toFleetNode(kv.key.slice(storeKeys.nodesPrefix.length), status, options))
  }
  nodes.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  return { nodes, summary: summarizeFleet(nodes, currentGeneration(current?.value.toString('utf8'))) }
}

function currentGeneration(text: string | undefined): number | null {
  if (text === undefined) return null
  try {
    const gen = (JSON.parse(text) as { gen?: unknown }).gen
    return typeof gen === 'number' ? gen : null
  } catch {
    return null
  }
}

/** Figures of the expected shape, or undefined: a node with a malformed report is listed without them. */
function validFigures(f: unknown): NodeFigures | undefined {
  if (!f || typeof f !== 'object') return undefined
  const v = f as NodeFigures
  const numbers = [v.requests, v.gatewayErrors, v.bytesOut, v.activeRequests, v.rssBytes, v.uptimeSeconds]
  if (!numbers.every((n) => typeof n === 'number' && Number.isFinite(n))) return undefined
  if (!v.responses || typeof v.responses['5xx'] !== 'number') return undefined
  const r = v.recent
  if (!r || typeof r.requestsPerSecond !== 'number' || typeof r.requests !== 'number' || typeof r.responses5xx !== 'number')
    return undefined
  if (!(r.p99Ms === null || typeof r.p99Ms === 'number')) return undefined
  return v
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
  const figures = validFigures(s.figures)
  return {
    id: s.id || keyId,
    address: s.address ?? null,
    version: s.version ?? null,
    applied: s.applied ? { generation: s.applied.gen, sha256: s.applied.sha256, at: s.applied.at } : null,
    rejected: s.rejected ? { generation: s.rejected.gen, error: s.rejected.error, at: s.rejected.at } : null,
    lastSeen: s.updatedAt,
    stale: !Number.isFinite(seen) || options.now() - seen > 3 * options.heartbeatMs,
    ...(figures === undefined ? {} : { figures }),
  }
}

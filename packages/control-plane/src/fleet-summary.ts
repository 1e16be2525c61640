import { nodeState } from './control-plane-metrics.ts'
import type { FleetNode, FleetSummary } from './service-types.ts'

/**
 * Sums the fleet: every node counts in its state; only nodes that are not stale and carry figures
 * count in the figures, so a node that went silent does not keep adding its last rate.
 */
export function summarizeFleet(nodes: readonly FleetNode[], generation: number | null): FleetSummary {
  const summary: FleetSummary = {
    nodes: { total: nodes.length, current: 0, behind: 0, rejected: 0, stale: 0 },
    reporting: 0,
    requestsPerSecond: 0,
    errorRatio5xx: null,
    maxP99Ms: null,
    requests: 0,
    responses5xx: 0,
    activeRequests: 0,
    rssBytes: 0,
  }
  let windowRequests = 0
  let window5xx = 0
  for (const node of nodes) {
    summary.nodes[nodeState(node, generation)]++
    const f = node.figures
    if (node.stale || f === undefined) continue
    summary.reporting++
    summary.requestsPerSecond += f.recent.requestsPerSecond
    windowRequests += f.recent.requests
    window5xx += f.recent.responses5xx
    if (f.recent.p99Ms !== null) summary.maxP99Ms = Math.max(summary.maxP99Ms ?? 0, f.recent.p99Ms)
    summary.requests += f.requests
    summary.responses5xx += f.responses['5xx']
    summary.activeRequests += f.activeRequests
    summary.rssBytes += f.rssBytes
  }
  summary.requestsPerSecond = Math.round(summary.requestsPerSecond * 1000) / 1000
  if (windowRequests > 0) summary.errorRatio5xx = Math.round((window5xx / windowRequests) * 10_000) / 10_000
  return summary
}

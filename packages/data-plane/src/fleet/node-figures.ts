import type { NodeFigures } from '@fleetgate/schema'
import { type HttpTotals, REQUEST_BUCKETS } from '../observability/http-metrics.ts'

/** What the node's figures are read from: its request metrics and its in-flight count. */
export interface NodeFiguresSource {
  totals(): HttpTotals
  activeRequests(): number
}

/** A window shorter than this (a status change right after a heartbeat) reuses the last one. */
const MIN_WINDOW_MS = 250

/**
 * Returns a reader of the node's figures for the heartbeat: cumulative counters copied from the
 * metrics, and a `recent` window (rate, 5xx, latency quantiles) from the difference with the totals
 * of the previous window. Reading costs one pass over the metric cells; requests pay nothing more.
 */
export function createNodeFigures(source: NodeFiguresSource, now: () => number = performance.now.bind(performance)): () => NodeFigures {
  let base = { at: now(), totals: source.totals() }
  let recent: NodeFigures['recent'] = emptyWindow()
  return () => {
    const at = now()
    const totals = source.totals()
    if (at - base.at >= MIN_WINDOW_MS) {
      recent = windowFigures(base.totals, totals, (at - base.at) / 1000)
      base = { at, totals }
    }
    const [c1, c2, c3, c4, c5] = totals.byStatusClass as [number, number, number, number, number]
    return {
      requests: c1 + c2 + c3 + c4 + c5,
      responses: { '1xx': c1, '2xx': c2, '3xx': c3, '4xx': c4, '5xx': c5 },
      gatewayErrors: totals.errors,
      bytesOut: totals.responseBytes,
      activeRequests: source.activeRequests(),
      rssBytes: process.memoryUsage.rss(),
      uptimeSeconds: Math.round(process.uptime()),
      recent,
    }
  }
}

function emptyWindow(): NodeFigures['recent'] {
  return { seconds: 0, requests: 0, responses5xx: 0, requestsPerSecond: 0, p50Ms: null, p99Ms: null, meanMs: null }
}

function windowFigures(before: HttpTotals, after: HttpTotals, seconds: number): NodeFigures['recent'] {
  const counts = after.durationCounts.map((n, i) => n - (before.durationCounts[i] ?? 0))
  const requests = counts.reduce((a, b) => a + b, 0)
  const sum = after.durationSum - before.durationSum
  return {
    seconds: round(seconds),
    requests,
    responses5xx: (after.byStatusClass[4] ?? 0) - (before.byStatusClass[4] ?? 0),
    requestsPerSecond: round(requests / seconds),
    p50Ms: quantileMs(counts, requests, 0.5),
    p99Ms: quantileMs(counts, requests, 0.99),
    meanMs: requests === 0 ? null : round((sum / requests) * 1000),
  }
}

/**
 * The q-quantile of bucketed durations, interpolated linearly inside its bucket as Prometheus's
 * histogram_quantile does; a quantile in the +Inf bucket is reported as the highest bound.
 */
export function quantileMs(counts: readonly number[], total: number, q: number): number | null {
  if (total <= 0) return null
  const rank = q * total
  let seen = 0
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i] as number
    if (n > 0 && seen + n >= rank) {
      if (i >= REQUEST_BUCKETS.length) break
      const lower = i === 0 ? 0 : (REQUEST_BUCKETS[i - 1] as number)
      const upper = REQUEST_BUCKETS[i] as number
      return round((lower + ((upper - lower) * (rank - seen)) / n) * 1000)
    }
    seen += n
  }
  return round((REQUEST_BUCKETS[REQUEST_BUCKETS.length - 1] as number) * 1000)
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000
}

import { Counter, Gauge, type Registry } from 'prom-client'
import type { Upstream } from '../upstream/types.ts'
import { CellHistogram, type HistogramCell } from './cell-histogram.ts'

/** Methods with a label value of their own; anything else is counted as "other". */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'other'] as const
const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const
const METHOD_INDEX = new Map<string, number>(METHODS.map((m, i) => [m, i]))

/** Request latency buckets (seconds): a fast proxy answers in a millisecond, slow APIs in tens of seconds. */
export const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

/**
 * Every figure of one (server, location, upstream): plain numbers updated per request and
 * turned into prom-client samples only when /metrics is scraped.
 */
export interface RouteCell {
  readonly server: string
  readonly location: string
  readonly upstream: string
  /** Requests by method class x status class (METHODS.length * STATUS_CLASSES.length). */
  readonly requests: Float64Array
  readonly duration: HistogramCell
  readonly upstreamDuration: HistogramCell
  requestBytes: number
  responseBytes: number
  retries: number
}

/** What one finished request adds to its cell. */
export interface RequestSample {
  method: string
  status: number
  /** Total time in seconds. */
  seconds: number
  /** Upstream time in seconds (dispatch to end), when a backend was tried. */
  upstreamSeconds: number | undefined
  requestBytes: number
  responseBytes: number
  attempts: number
  error: string | undefined
}

/** The per-request metrics: cells keyed once, counters filled in at scrape time. */
export interface HttpMetrics {
  /** The cell of (server, location, upstream), created on first use and kept across reloads. */
  cell(server: string, location: string, upstream: string): RouteCell
  record(cell: RouteCell, sample: RequestSample): void
  /** The sums over every cell, for the fleet report (read at each heartbeat, never per request). */
  totals(): HttpTotals
}

/** Sums of the request metrics over all cells, cumulative since the process started. */
export interface HttpTotals {
  /** Requests by status class (1xx..5xx). */
  byStatusClass: number[]
  responseBytes: number
  /** Requests answered with an error code of the gateway's own. */
  errors: number
  /** Per-bucket (non-cumulative) request durations over REQUEST_BUCKETS, the last slot +Inf. */
  durationCounts: number[]
  durationSum: number
}

/** What the scrape-time gauges read. */
export interface HttpMetricsSource {
  activeRequests(): number
  upstreams(): Iterable<Upstream>
}

/** Registers the request metrics on `registry`. */
export function createHttpMetrics(registry: Registry, source: HttpMetricsSource): HttpMetrics {
  const cells = new Map<string, RouteCell>()
  const errors = new Map<string, number>()
  const labels = ['server', 'location', 'upstream']
  const duration = new CellHistogram(
    'fleetgate_http_request_duration_seconds',
    'Time from request head to response end',
    labels,
    REQUEST_BUCKETS,
  )
  const upstreamDuration = new CellHistogram(
    'fleetgate_upstream_response_duration_seconds',
    'Time from sending to the upstream to the end of its response (last attempt)',
    labels,
    REQUEST_BUCKETS,
  )
  registry.registerMetric(duration)
  registry.registerMetric(upstreamDuration)
  registerScrapeCounters(registry, cells, errors)
  registerScrapeGauges(registry, source)

  return {
    cell(server, location, upstream) {
      const key = `${server}\0${location}\0${upstream}`
      let cell = cells.get(key)
      if (cell === undefined) {
        const l = { server, location, upstream }
        cell = {
          ...l,
          requests: new Float64Array(METHODS.length * STATUS_CLASSES.length),
          duration: duration.cell(l),
          upstreamDuration: upstreamDuration.cell(l),
          requestBytes: 0,
          responseBytes: 0,
          retries: 0,
        }
        cells.set(key, cell)
      }
      return cell
    },
    record(cell, s) {
      const method = METHOD_INDEX.get(s.method) ?? METHODS.length - 1
      const status = Math.min(Math.max(Math.floor(s.status / 100), 1), 5) - 1
      const slot = method * STATUS_CLASSES.length + status
      cell.requests[slot] = (cell.requests[slot] as number) + 1
      duration.observeCell(cell.duration, s.seconds)
      if (s.upstreamSeconds !== undefined) upstreamDuration.observeCell(cell.upstreamDuration, s.upstreamSeconds)
      cell.requestBytes += s.requestBytes
      cell.responseBytes += s.responseBytes
      if (s.attempts > 1) cell.retries += s.attempts - 1
      if (s.error !== undefined) errors.set(s.error, (errors.get(s.error) ?? 0) + 1)
    },
    totals: () => sumCells(cells.values(), errors),
  }
}

function sumCells(cells: Iterable<RouteCell>, errors: Map<string, number>): HttpTotals {
  const byStatusClass = STATUS_CLASSES.map(() => 0)
  const durationCounts = new Array<number>(REQUEST_BUCKETS.length + 1).fill(0)
  let responseBytes = 0
  let durationSum = 0
  for (const c of cells) {
    for (let i = 0; i < c.requests.length; i++) {
      const slot = i % STATUS_CLASSES.length
      byStatusClass[slot] = (byStatusClass[slot] as number) + (c.requests[i] as number)
    }
    for (let i = 0; i < durationCounts.length; i++) durationCounts[i] = (durationCounts[i] as number) + (c.duration.counts[i] as number)
    durationSum += c.duration.sum
    responseBytes += c.responseBytes
  }
  let errorCount = 0
  for (const n of errors.values()) errorCount += n
  return { byStatusClass, responseBytes, errors: errorCount, durationCounts, durationSum }
}

/** Counters whose values live in the cells; collect() copies them in when scraped. */
function registerScrapeCounters(registry: Registry, cells: Map<string, RouteCell>, errors: Map<string, number>): void {
  const routeLabels = ['server', 'location', 'upstream'] as const
  const perCell = (name: string, help: string, value: (c: RouteCell) => number) =>
    new Counter({
      name,
      help,
      labelNames: routeLabels,
      registers: [registry],
      collect() {
        this.reset()
        for (const c of cells.values()) this.inc({ server: c.server, location: c.location, upstream: c.upstream }, value(c))
      },
    })
  new Counter({
    name: 'fleetgate_http_requests_total',
    help: 'Requests answered, by server, location, upstream, method class and status class',
    labelNames: [...routeLabels, 'method_class', 'status_class'],
    registers: [registry],
    collect() {
      this.reset()
      for (const c of cells.values()) {
        for (let i = 0; i < c.requests.length; i++) {
          const n = c.requests[i] as number
          if (n === 0) continue
          const method_class = METHODS[Math.floor(i / STATUS_CLASSES.length)] as string
          const status_class = STATUS_CLASSES[i % STATUS_CLASSES.length] as string
          this.inc({ server: c.server, location: c.location, upstream: c.upstream, method_class, status_class }, n)
        }
      }
    },
  })
  perCell(
    'fleetgate_http_request_bytes_total',
    'Request body bytes received from clients (as declared by content-length)',
    (c) => c.requestBytes,
  )
  perCell('fleetgate_http_response_bytes_total', 'Response body bytes sent to clients', (c) => c.responseBytes)
  perCell('fleetgate_upstream_retries_total', 'Upstream attempts beyond the first one', (c) => c.retries)
  new Counter({
    name: 'fleetgate_http_errors_total',
    help: 'Requests the gateway answered with an error of its own, by error code',
    labelNames: ['code'],
    registers: [registry],
    collect() {
      this.reset()
      for (const [code, n] of errors) this.inc({ code }, n)
    },
  })
}

/** Gauges read from the gateway when scraped, so requests pay nothing for them. */
function registerScrapeGauges(registry: Registry, source: HttpMetricsSource): void {
  new Gauge({
    name: 'fleetgate_http_active_requests',
    help: 'Requests in progress',
    registers: [registry],
    collect() {
      this.set(source.activeRequests())
    },
  })
  new Gauge({
    name: 'fleetgate_upstream_backend_up',
    help: 'Whether a backend takes requests now: health checks pass and its circuit is not open (1) or not (0)',
    labelNames: ['upstream', 'backend'],
    registers: [registry],
    collect() {
      this.reset()
      const now = Date.now()
      for (const upstream of source.upstreams()) {
        for (const b of upstream.backends) this.set({ upstream: upstream.name, backend: b.id }, b.isAvailable(now) ? 1 : 0)
      }
    },
  })
}

import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type { ForwardOutcome } from '../proxy/forward.ts'
import type { ServerRuntime, Snapshot } from '../snapshot.ts'
import type { Upstream } from '../upstream/types.ts'
import { type AccessLog, createAccessLogs } from './access-log/access-logs.ts'
import { createHttpMetrics, type HttpMetrics, type HttpTotals, type RouteCell } from './http-metrics.ts'
import { kRequestStart } from './request-start.ts'
import { registerRuntimeMetrics } from './runtime-metrics.ts'
import { traceOf } from './tracing/request-trace.ts'
import type { Tracing } from './tracing/tracer.ts'
import { createTracingSwitch } from './tracing/tracing-switch.ts'

/** What the gateway calls around each request; see createObservability. */
export interface GatewayObservability {
  /**
   * Builds the per-snapshot state (access-log formats, metric cells) before the snapshot goes
   * live; throws on a bad format. Returns a promise when `[tracing]` changed (the SDK loads).
   */
  prepare(snapshot: Snapshot): Promise<void> | undefined
  /** Marks the start of a request (its timestamp and response), before routing. */
  start(req: IncomingMessage, res: ServerResponse): void
  /** Records a finished request: metrics and access log. */
  observe(req: IncomingMessage, server: ServerRuntime, location: string | undefined, outcome: ForwardOutcome): void
  /** Flushes and closes the access-log files and exports the buffered spans. */
  close(): Promise<void>
  /** The request metrics summed over all cells (for the fleet report; not for the hot path). */
  totals(): HttpTotals
}

/** What the scrape-time gauges read from the running gateway. */
export interface ObservedGateway {
  readonly current: Snapshot | undefined
  activeRequests(): number
}

/** Per-server state built by prepare(): metric cells by location and the compiled access log. */
interface ServerObservers {
  readonly cells: ReadonlyMap<string, RouteCell>
  /** Requests no location took (404, 431, ...). */
  readonly unrouted: RouteCell
  readonly accessLog: AccessLog | undefined
  readonly snapshot: Snapshot
}

const kRes = Symbol('fleetgate.res')
/** The request's connection, kept for the access log: Node nulls `req.socket` once a request with a body has ended. */
const kSocket = Symbol('fleetgate.socket')
type TrackedRequest = IncomingMessage & { [kRequestStart]: number; [kRes]: ServerResponse; [kSocket]: Socket }

/** At most one error a minute about access-log lines that could not be written. */
const LOG_FAILURE_REPORT_MS = 60_000

/** Creates the request metrics (on `registry`) and the access logs of a gateway process. */
export function createObservability(options: {
  logger: Logger
  registry: Registry
  gateway: () => ObservedGateway | undefined
}): GatewayObservability {
  const metrics: HttpMetrics = createHttpMetrics(options.registry, {
    activeRequests: () => options.gateway()?.activeRequests() ?? 0,
    upstreams: () => options.gateway()?.current?.upstreams.values() ?? ([] as Upstream[]),
  })
  registerRuntimeMetrics(options.registry, () => options.gateway()?.current?.upstreams.values() ?? [])
  const accessLogs = createAccessLogs(options.logger)
  // Keyed by the compiled server, so a request finds its cells with one lookup and no label hashing.
  const byServer = new WeakMap<ServerRuntime, ServerObservers>()
  const tracingSwitch = createTracingSwitch(options.logger)
  // Off (undefined) unless [tracing] endpoint is set: then one check per request is all it costs.
  let tracing: Tracing | undefined
  let everTraced = false
  let lastLogFailureAt = -LOG_FAILURE_REPORT_MS

  return {
    prepare(snapshot) {
      const logs = accessLogs.compile(snapshot.config.servers, snapshot.gracePeriodMs + 5_000)
      for (const server of snapshot.serversByListen.values()) {
        const cells = new Map<string, RouteCell>()
        for (const loc of server.locations.values()) cells.set(loc.name, metrics.cell(server.name, loc.name, loc.upstream?.name ?? ''))
        byServer.set(server, { cells, unrouted: metrics.cell(server.name, '', ''), accessLog: logs.get(server.name), snapshot })
      }
      return tracingSwitch.apply(snapshot.config.tracing)?.then((next) => {
        tracing = next
        everTraced ||= next !== undefined
      })
    },
    start(req, res) {
      ;(req as TrackedRequest)[kRequestStart] = performance.now()
      ;(req as TrackedRequest)[kRes] = res
      ;(req as TrackedRequest)[kSocket] = req.socket
      if (tracing !== undefined) tracing.start(req)
    },
    observe(req, server, location, outcome) {
      const observers = byServer.get(server)
      if (observers === undefined) return
      const endedAt = performance.now()
      const startedAt = (req as TrackedRequest)[kRequestStart] ?? endedAt
      const cell = (location === undefined ? undefined : observers.cells.get(location)) ?? observers.unrouted
      if (everTraced) traceOf(req)?.end(location, cell.upstream === '' ? undefined : cell.upstream, outcome)
      const requestBytes = Number(req.headers['content-length'] ?? 0) || 0
      const responseBytes = outcome.bodyBytes ?? (Number((req as TrackedRequest)[kRes].getHeader('content-length') ?? 0) || 0)
      metrics.record(cell, {
        method: req.method ?? '',
        status: outcome.status,
        seconds: (endedAt - startedAt) / 1000,
        upstreamSeconds: outcome.sentAt === undefined ? undefined : (endedAt - outcome.sentAt) / 1000,
        requestBytes,
        responseBytes,
        attempts: outcome.attempts,
        error: outcome.error,
      })
      const log = observers.accessLog
      if (log === undefined) return
      let line: string
      try {
        line = log.format({
          req,
          res: (req as TrackedRequest)[kRes],
          socket: (req as TrackedRequest)[kSocket],
          server: server.name,
          location,
          upstream: cell.upstream === '' ? undefined : cell.upstream,
          outcome,
          startedAt,
          endedAt,
          wallClock: Date.now(),
          trustedProxies: observers.snapshot.trustedProxies,
        })
      } catch (err) {
        // A line that cannot be formatted is lost, said once a minute; the request is not touched.
        const now = performance.now()
        if (now - lastLogFailureAt >= LOG_FAILURE_REPORT_MS) {
          lastLogFailureAt = now
          options.logger.error({ err, server: server.name }, 'access log: a line could not be formatted and was dropped')
        }
        return
      }
      log.file.write(line)
    },
    close: async () => {
      await Promise.all([accessLogs.close(), tracingSwitch.shutdown()])
    },
    totals: () => metrics.totals(),
  }
}

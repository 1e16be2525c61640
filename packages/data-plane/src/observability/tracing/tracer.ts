import type { IncomingMessage } from 'node:http'
import type { TLSSocket } from 'node:tls'
import type { TracingConfig } from '@fleetgate/schema'
import { type Attributes, ROOT_CONTEXT, type SpanContext, TraceFlags, trace } from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import type { Logger } from 'pino'
import type { ErrorCode } from '../../errors.ts'
import { peerAddress } from '../../proxy/client-ip.ts'
import type { ForwardOutcome } from '../../proxy/forward.ts'
import type { Backend } from '../../upstream/types.ts'
import { attachTrace, type RequestTrace } from './request-trace.ts'
import { SpanHandoff } from './span-handoff.ts'
import type { SpanRecord } from './span-record.ts'
import { newSpanId, newTraceId, unsampledTraceparent } from './traceparent.ts'

/**
 * Tracing, loaded (dynamic import) only when a config sets `[tracing] endpoint`. The request path
 * decides sampling, draws the ids, sends the upstream its traceparent and records each finished
 * span as plain data; the OpenTelemetry SDK (provider, batch processor, OTLP exporter) makes and
 * exports the spans on a worker thread of its own (span-worker.ts), one per `[tracing]` table, so
 * that a reload can start a new one while the old one flushes.
 */
export interface Tracing {
  /** Starts the request's trace (parent: the client's W3C traceparent) and attaches it. */
  start(req: IncomingMessage): void
  /** Exports what is buffered and stops the export thread. */
  shutdown(): Promise<void>
}

const propagator = new W3CTraceContextPropagator()

/** Creates the tracing of a `[tracing]` table whose endpoint is set (the export thread starts with its first span). */
export function createTracing(config: TracingConfig & { endpoint: string }, logger: Logger): Tracing {
  const exporter = new SpanHandoff({ url: `${config.endpoint.replace(/\/+$/, '')}/v1/traces`, serviceName: config.service_name }, logger)
  const ratio = config.sampling_ratio
  return {
    start(req) {
      const requestTrace = startRequestTrace(exporter, ratio, req)
      if (requestTrace !== undefined) attachTrace(req, requestTrace)
    },
    shutdown: () => exporter.shutdown(),
  }
}

const now = (): number => performance.timeOrigin + performance.now()

function startRequestTrace(exporter: SpanHandoff, ratio: number, req: IncomingMessage): RequestTrace | undefined {
  const parent =
    req.headers.traceparent === undefined ? undefined : trace.getSpanContext(propagator.extract(ROOT_CONTEXT, req.headers, headerGetter))
  if (parent === undefined) {
    // A new trace (no traceparent came, or not a valid one): drawn by the ratio here. Most are
    // not sampled, and those cost a random number and, once an upstream is asked, one header.
    return Math.random() < ratio ? new SampledTrace(exporter, req, undefined) : new UnsampledRoot()
  }
  // A sampled parent is honoured whatever the ratio: a trace the client started stays whole.
  // The client's trace, not sampled: nothing is recorded, and its traceparent goes upstream unchanged.
  return (parent.traceFlags & TraceFlags.SAMPLED) === 0 ? undefined : new SampledTrace(exporter, req, parent)
}

/**
 * A sampled request: its server span and a client span per upstream attempt, recorded as plain
 * data and handed to the export thread as each ends.
 */
class SampledTrace implements RequestTrace {
  readonly #exporter: SpanHandoff
  readonly #server: SpanRecord
  readonly #method: string
  #attempt: SpanRecord | undefined

  constructor(exporter: SpanHandoff, req: IncomingMessage, parent: SpanContext | undefined) {
    this.#exporter = exporter
    const method = req.method ?? 'GET'
    this.#method = method
    this.#server = {
      traceId: parent?.traceId ?? newTraceId(),
      spanId: newSpanId(),
      parentSpanId: parent?.spanId ?? '',
      parentRemote: parent !== undefined,
      traceState: parent?.traceState?.serialize() ?? '',
      name: method,
      kind: 1,
      startMs: now(),
      endMs: 0,
      attributes: serverAttributes(req, method),
      error: false,
    }
  }

  attemptStart(headers: string[], backend: Backend, upstream: string, n: number): string[] {
    if (this.#attempt !== undefined) this.#endAttempt(this.#attempt)
    const server = this.#server
    const attempt: SpanRecord = {
      traceId: server.traceId,
      spanId: newSpanId(),
      parentSpanId: server.spanId,
      parentRemote: false,
      traceState: server.traceState,
      name: `${this.#method} ${upstream}`,
      kind: 2,
      startMs: now(),
      endMs: 0,
      attributes: clientAttributes(this.#method, backend, upstream, n),
      error: false,
    }
    this.#attempt = attempt
    // The request's own list (built afresh per request): a retry's strip takes the last attempt's.
    removeTraceHeaders(headers)
    headers.push('traceparent', `00-${attempt.traceId}-${attempt.spanId}-01`)
    if (attempt.traceState !== '') headers.push('tracestate', attempt.traceState)
    return headers
  }

  attemptEnd(error: ErrorCode | undefined, status: number | undefined): void {
    const attempt = this.#attempt
    if (attempt === undefined) return
    if (status !== undefined) attempt.attributes['http.response.status_code'] = status
    if (error !== undefined || (status !== undefined && status >= 500)) {
      attempt.attributes['error.type'] = error ?? String(status)
      attempt.error = true
    }
    this.#endAttempt(attempt)
  }

  #endAttempt(attempt: SpanRecord): void {
    attempt.endMs = now()
    this.#attempt = undefined
    this.#exporter.add(attempt)
  }

  end(location: string | undefined, upstream: string | undefined, outcome: ForwardOutcome): void {
    if (this.#attempt !== undefined) this.attemptEnd(outcome.error, outcome.upstreamStatus)
    const server = this.#server
    const attrs = server.attributes
    if (location !== undefined) server.name = `${this.#method} ${location}`
    attrs['http.response.status_code'] = outcome.status
    if (location !== undefined) attrs['fleetgate.location'] = location
    if (upstream !== undefined) attrs['fleetgate.upstream'] = upstream
    if (outcome.backend !== undefined) attrs['fleetgate.backend'] = outcome.backend
    // An upstream error the client never saw (a stale cached answer served instead) stays on the
    // attempt's span: the request itself succeeded.
    if ((outcome.error !== undefined && outcome.status >= 400) || outcome.status >= 500)
      attrs['error.type'] = outcome.error ?? String(outcome.status)
    server.error = outcome.status >= 500
    server.endMs = now()
    this.#exporter.add(server)
  }
}

/**
 * A new trace that is not sampled: the upstream is told its id and "not sampled", nothing more.
 * The header goes into the request's own upstream header list (built afresh per request), so
 * that this costs no copy; a retry finds it there already.
 */
class UnsampledRoot implements RequestTrace {
  #headers: string[] | undefined
  attemptStart(headers: string[]): string[] {
    if (headers === this.#headers) return headers
    removeTraceHeaders(headers)
    headers.push('traceparent', unsampledTraceparent())
    this.#headers = headers
    return headers
  }
  attemptEnd(): void {}
  end(): void {}
}

const headerGetter = {
  get: (carrier: IncomingMessage['headers'], key: string) => carrier[key],
  keys: (carrier: IncomingMessage['headers']) => Object.keys(carrier),
}

function serverAttributes(req: IncomingMessage, method: string): Attributes {
  const url = req.url ?? '/'
  const q = url.indexOf('?')
  const host = req.headers.host ?? (req.headers[':authority'] as string | undefined) ?? ''
  const portAt = host.lastIndexOf(':')
  const hasPort = portAt > host.lastIndexOf(']')
  const attrs: Attributes = {
    'http.request.method': method,
    'url.path': q < 0 ? url : url.slice(0, q),
    'url.scheme': (req.socket as TLSSocket).encrypted ? 'https' : 'http',
    'server.address': hasPort ? host.slice(0, portAt) : host,
    'server.port': hasPort ? Number(host.slice(portAt + 1)) : (req.socket.localPort ?? 0),
    'network.protocol.version': req.httpVersionMajor === 2 ? '2' : req.httpVersion,
    'client.address': peerAddress(req.socket),
  }
  const ua = req.headers['user-agent']
  if (ua !== undefined) attrs['user_agent.original'] = ua
  return attrs
}

function clientAttributes(method: string, backend: Backend, upstream: string, attempt: number): Attributes {
  const attrs: Attributes = {
    'http.request.method': method,
    'server.address': backend.host,
    'server.port': backend.port,
    'fleetgate.upstream': upstream,
    'fleetgate.backend': backend.id,
  }
  if (attempt > 1) attrs['http.request.resend_count'] = attempt - 1
  return attrs
}

/** Takes the trace headers (traceparent, tracestate) out of a flat upstream header list. */
function removeTraceHeaders(headers: string[]): void {
  for (let i = headers.length - 2; i >= 0; i -= 2) if (isTraceHeader(headers[i] as string)) headers.splice(i, 2)
}

/** traceparent or tracestate, in any case. */
function isTraceHeader(name: string): boolean {
  return (name.length === 11 || name.length === 10) && /^trace(parent|state)$/i.test(name)
}

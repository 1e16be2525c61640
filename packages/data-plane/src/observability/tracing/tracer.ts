import type { IncomingMessage } from 'node:http'
import type { TLSSocket } from 'node:tls'
import type { TracingConfig } from '@fleetgate/schema'
import { ROOT_CONTEXT, type SpanContext, TraceFlags, trace } from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import type { Logger } from 'pino'
import type { ErrorCode } from '../../errors.ts'
import { peerAddress } from '../../proxy/client-ip.ts'
import type { ForwardOutcome } from '../../proxy/forward.ts'
import type { Backend } from '../../upstream/types.ts'
import { attachTrace, type RequestTrace } from './request-trace.ts'
import { type FinishedTrace, SpanHandoff } from './span-handoff.ts'
import { CLIENT_KIND, SERVER_KIND, type SpanValue } from './span-record.ts'
import { newSpanId, newTraceId, unsampledTraceparent } from './traceparent.ts'

/**
 * Tracing, loaded (dynamic import) only when a config sets `[tracing] endpoint`. The request path
 * decides sampling, draws the ids, sends the upstream its traceparent and notes each span's facts,
 * which the handoff has written out as plain data a few times a second; the OpenTelemetry SDK (provider, batch processor, OTLP exporter) makes and
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
    return new Trace(Math.random() < ratio ? new SampledTrace(exporter, req, undefined) : undefined)
  }
  // A sampled parent is honoured whatever the ratio: a trace the client started stays whole.
  // The client's trace, not sampled: nothing is recorded, and its traceparent goes upstream unchanged.
  return (parent.traceFlags & TraceFlags.SAMPLED) === 0 ? undefined : new Trace(new SampledTrace(exporter, req, parent))
}

/**
 * The trace attached to a request, sampled or not. One class for both, so that the proxy's calls
 * into it meet one shape on every request and stay cheap for the JIT to inline; the sampled work
 * is a call made by the sampled share of requests only, which V8 leaves out of line. (With the
 * two kinds as two classes, 1 % of requests sampled made those call sites polymorphic, and the
 * JIT could inline the sampled code into the proxy's hot functions.)
 *
 * A new trace that is not sampled only tells the upstream its id and "not sampled". The header
 * goes into the request's own upstream header list (built afresh per request), so that this
 * costs no copy; a retry finds it there already.
 */
class Trace implements RequestTrace {
  readonly #sampled: SampledTrace | undefined
  #headers: string[] | undefined

  constructor(sampled: SampledTrace | undefined) {
    this.#sampled = sampled
  }

  attemptStart(headers: string[], backend: Backend, upstream: string, n: number): string[] {
    if (this.#sampled !== undefined) return this.#sampled.attemptStart(headers, backend, upstream, n)
    if (headers === this.#headers) return headers
    removeTraceHeaders(headers)
    headers.push('traceparent', unsampledTraceparent())
    this.#headers = headers
    return headers
  }

  attemptEnd(error: ErrorCode | undefined, status: number | undefined): void {
    if (this.#sampled !== undefined) this.#sampled.attemptEnd(error, status)
  }

  end(location: string | undefined, upstream: string | undefined, outcome: ForwardOutcome): void {
    if (this.#sampled !== undefined) this.#sampled.end(location, upstream, outcome)
  }
}

/** One upstream attempt of a sampled request: its client span's facts, kept until the span is written. */
interface Attempt {
  spanId: string
  startMs: number
  endMs: number
  backend: Backend
  upstream: string
  /** 1 for the first attempt, 2 for the first retry... */
  n: number
  status: number | undefined
  error: ErrorCode | undefined
}

/**
 * A sampled request: its server span and a client span per upstream attempt. Their facts wait in
 * fields (each attempt's in a record) until the handoff's next flush, which has each
 * finished trace write its spans into the export batch (span-record.ts), with no object per span
 * or per attribute set. The request path only notes the facts: the code that lays out the
 * spans runs at the flush, a few times a second, and stays out of the proxy's hot functions.
 */
class SampledTrace implements RequestTrace, FinishedTrace {
  readonly #exporter: SpanHandoff
  readonly #traceId: string
  readonly #spanId: string
  readonly #parentSpanId: string
  readonly #parentRemote: boolean
  readonly #traceState: string
  readonly #method: string
  readonly #startMs: number
  // The server span's request attributes, taken at the start (the socket may be gone at the end).
  readonly #path: string
  readonly #scheme: string
  readonly #host: string
  readonly #port: number
  readonly #protocol: string
  readonly #client: string
  readonly #userAgent: string | undefined
  /** The open attempt; undefined between attempts. */
  #open: Attempt | undefined
  readonly #ended: Attempt[] = []
  // The server span's end, noted by end().
  #endMs = 0
  #location: string | undefined
  #upstream: string | undefined
  #status = 0
  #error: ErrorCode | undefined
  #backend: string | undefined

  constructor(exporter: SpanHandoff, req: IncomingMessage, parent: SpanContext | undefined) {
    this.#exporter = exporter
    this.#method = req.method ?? 'GET'
    this.#traceId = parent?.traceId ?? newTraceId()
    this.#spanId = newSpanId()
    this.#parentSpanId = parent?.spanId ?? ''
    this.#parentRemote = parent !== undefined
    this.#traceState = parent?.traceState?.serialize() ?? ''
    this.#startMs = now()
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    this.#path = q < 0 ? url : url.slice(0, q)
    this.#scheme = (req.socket as TLSSocket).encrypted ? 'https' : 'http'
    const host = req.headers.host ?? (req.headers[':authority'] as string | undefined) ?? ''
    const portAt = host.lastIndexOf(':')
    const hasPort = portAt > host.lastIndexOf(']')
    this.#host = hasPort ? host.slice(0, portAt) : host
    this.#port = hasPort ? Number(host.slice(portAt + 1)) : (req.socket.localPort ?? 0)
    this.#protocol = req.httpVersionMajor === 2 ? '2' : req.httpVersion
    this.#client = peerAddress(req.socket)
    this.#userAgent = req.headers['user-agent']
  }

  attemptStart(headers: string[], backend: Backend, upstream: string, n: number): string[] {
    if (this.#open !== undefined) this.attemptEnd(undefined, undefined)
    const spanId = newSpanId()
    this.#open = { spanId, startMs: now(), endMs: 0, backend, upstream, n, status: undefined, error: undefined }
    // The request's own list (built afresh per request): a retry's strip takes the last attempt's.
    removeTraceHeaders(headers)
    headers.push('traceparent', `00-${this.#traceId}-${spanId}-01`)
    if (this.#traceState !== '') headers.push('tracestate', this.#traceState)
    return headers
  }

  attemptEnd(error: ErrorCode | undefined, status: number | undefined): void {
    const attempt = this.#open
    if (attempt === undefined) return
    this.#open = undefined
    attempt.endMs = now()
    attempt.status = status
    attempt.error = error
    this.#ended.push(attempt)
  }

  end(location: string | undefined, upstream: string | undefined, outcome: ForwardOutcome): void {
    if (this.#open !== undefined) this.attemptEnd(outcome.error, outcome.upstreamStatus)
    this.#endMs = now()
    this.#location = location
    this.#upstream = upstream
    this.#status = outcome.status
    this.#error = outcome.error
    this.#backend = outcome.backend
    this.#exporter.finished(this)
  }

  writeSpans(batch: SpanValue[]): number {
    const method = this.#method
    for (const { spanId, startMs, endMs, backend, upstream, n, status, error } of this.#ended) {
      const failed = error !== undefined || (status !== undefined && status >= 500)
      batch.push(CLIENT_KIND, this.#traceId, spanId, this.#spanId, false, this.#traceState)
      batch.push(`${method} ${upstream}`, startMs, endMs, failed)
      // CLIENT_ATTRIBUTES
      batch.push(method, backend.host, backend.port, upstream, backend.id)
      batch.push(n > 1 ? n - 1 : undefined, status, failed ? (error ?? String(status)) : undefined)
    }
    const status = this.#status
    const error = this.#error
    const location = this.#location
    // An upstream error the client never saw (a stale cached answer served instead) stays on the
    // attempt's span: the request itself succeeded.
    const errorType = (error !== undefined && status >= 400) || status >= 500 ? (error ?? String(status)) : undefined
    batch.push(SERVER_KIND, this.#traceId, this.#spanId, this.#parentSpanId, this.#parentRemote, this.#traceState)
    batch.push(location === undefined ? method : `${method} ${location}`, this.#startMs, this.#endMs, status >= 500)
    // SERVER_ATTRIBUTES
    batch.push(method, this.#path, this.#scheme, this.#host, this.#port, this.#protocol, this.#client, this.#userAgent)
    batch.push(status, location, this.#upstream, this.#backend, errorType)
    return this.#ended.length + 1
  }
}

const headerGetter = {
  get: (carrier: IncomingMessage['headers'], key: string) => carrier[key],
  keys: (carrier: IncomingMessage['headers']) => Object.keys(carrier),
}

/** Takes the trace headers (traceparent, tracestate) out of a flat upstream header list. */
function removeTraceHeaders(headers: string[]): void {
  for (let i = headers.length - 2; i >= 0; i -= 2) if (isTraceHeader(headers[i] as string)) headers.splice(i, 2)
}

/** traceparent or tracestate, in any case (user-agent has their length: the first letter settles it). */
function isTraceHeader(name: string): boolean {
  return (name.length === 11 || name.length === 10) && (name.charCodeAt(0) | 0x20) === 116 /* t */ && /^trace(parent|state)$/i.test(name)
}

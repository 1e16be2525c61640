import type { IncomingMessage } from 'node:http'
import type { TLSSocket } from 'node:tls'
import { Worker } from 'node:worker_threads'
import type { TracingConfig } from '@fleetgate/schema'
import { type Attributes, ROOT_CONTEXT, type SpanContext, TraceFlags, trace } from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import type { Logger } from 'pino'
import type { ErrorCode } from '../../errors.ts'
import { peerAddress } from '../../proxy/client-ip.ts'
import type { ForwardOutcome } from '../../proxy/forward.ts'
import type { Backend } from '../../upstream/types.ts'
import { attachTrace, type RequestTrace } from './request-trace.ts'
import type { FromSpanWorker, SpanRecord, SpanWorkerData, ToSpanWorker } from './span-record.ts'
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

/** Export delay of the batch span processor: short, so traces show up soon after the request. */
const EXPORT_DELAY_MS = 1000
/** Finished spans go to the export thread in batches: at most this long after they end... */
const HANDOFF_DELAY_MS = 200
/** ...or as soon as this many are waiting. */
const HANDOFF_BATCH = 256
/** How long a shutdown waits for the export thread's last export. */
const SHUTDOWN_TIMEOUT_MS = 10_000

const propagator = new W3CTraceContextPropagator()

/** Creates the tracing of a `[tracing]` table whose endpoint is set: its export thread starts now. */
export function createTracing(config: TracingConfig & { endpoint: string }, logger: Logger): Tracing {
  const exporter = new SpanHandoff(
    {
      url: `${config.endpoint.replace(/\/+$/, '')}/v1/traces`,
      serviceName: config.service_name,
      exportDelayMs: EXPORT_DELAY_MS,
    },
    logger,
  )
  const ratio = config.sampling_ratio
  return {
    start(req) {
      const requestTrace = startRequestTrace(exporter, ratio, req)
      if (requestTrace !== undefined) attachTrace(req, requestTrace)
    },
    shutdown: () => exporter.shutdown(),
  }
}

/**
 * The main thread's end of the export thread: finished spans wait in a batch that is posted
 * every HANDOFF_DELAY_MS (or when HANDOFF_BATCH are waiting). The thread starts with the first
 * finished span, so tracing that samples nothing costs no thread and no SDK. If the thread
 * dies, tracing logs it once and drops spans from then on; the proxy goes on.
 */
class SpanHandoff {
  readonly #data: SpanWorkerData
  readonly #logger: Logger
  #worker: Worker | undefined
  #batch: SpanRecord[] = []
  #timer: NodeJS.Timeout | undefined
  #dead = false
  #shut: Promise<void> | undefined

  constructor(data: SpanWorkerData, logger: Logger) {
    this.#data = data
    this.#logger = logger
  }

  add(span: SpanRecord): void {
    if (this.#dead || this.#shut !== undefined) return
    this.#batch.push(span)
    if (this.#batch.length >= HANDOFF_BATCH) this.#flush()
    else if (this.#timer === undefined) this.#timer = setTimeout(() => this.#flush(), HANDOFF_DELAY_MS).unref()
  }

  #start(): Worker {
    const logger = this.#logger
    const worker = new Worker(new URL('./span-worker.ts', import.meta.url), { workerData: this.#data })
    worker.unref()
    worker.on('message', (message: FromSpanWorker) => {
      if (message.type === 'warn') logger.warn({ detail: message.detail || undefined }, `tracing: ${message.message}`)
    })
    worker.on('error', (err) => {
      this.#dead = true
      logger.error({ err }, 'tracing: the span export thread failed; spans are dropped from now on')
    })
    worker.on('exit', (code) => {
      if (this.#dead || this.#shut !== undefined) return
      this.#dead = true
      logger.error({ code }, 'tracing: the span export thread exited; spans are dropped from now on')
    })
    return worker
  }

  #flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#batch.length === 0 || this.#dead) return
    const spans = this.#batch
    this.#batch = []
    this.#post({ type: 'spans', spans })
  }

  #post(message: ToSpanWorker): void {
    this.#worker ??= this.#start()
    this.#worker.postMessage(message)
  }

  /** Hands over what is waiting, lets the thread export it, and stops the thread. */
  shutdown(): Promise<void> {
    this.#shut ??= this.#shutdown()
    return this.#shut
  }

  async #shutdown(): Promise<void> {
    this.#flush()
    const worker = this.#worker
    if (worker === undefined) return
    if (!this.#dead) {
      worker.ref()
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer)
          worker.off('message', onMessage)
          worker.off('exit', done)
          resolve()
        }
        const onMessage = (message: FromSpanWorker) => {
          if (message.type === 'shut') done()
        }
        const timer = setTimeout(() => {
          this.#logger.warn('tracing: the span export thread did not finish its last export in time')
          done()
        }, SHUTDOWN_TIMEOUT_MS)
        worker.on('message', onMessage)
        worker.on('exit', done)
        this.#post({ type: 'shutdown' })
      })
    }
    await worker.terminate()
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
    const out = withoutTraceHeaders(headers)
    out.push('traceparent', `00-${attempt.traceId}-${attempt.spanId}-01`)
    if (attempt.traceState !== '') out.push('tracestate', attempt.traceState)
    return out
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
    for (let i = headers.length - 2; i >= 0; i -= 2) if (isTraceHeader(headers[i] as string)) headers.splice(i, 2)
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

/** The upstream headers without the client's trace headers (traceparent, tracestate). */
function withoutTraceHeaders(headers: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string
    if (!isTraceHeader(name)) out.push(name, headers[i + 1] as string)
  }
  return out
}

/** traceparent or tracestate, in any case. */
function isTraceHeader(name: string): boolean {
  return (name.length === 11 || name.length === 10) && /^trace(parent|state)$/i.test(name)
}

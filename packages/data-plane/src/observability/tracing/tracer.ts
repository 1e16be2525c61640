import type { IncomingMessage } from 'node:http'
import type { TLSSocket } from 'node:tls'
import type { TracingConfig } from '@fleetgate/schema'
import {
  type Attributes,
  type Context,
  DiagLogLevel,
  defaultTextMapSetter,
  diag,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources'
import { AlwaysOnSampler, BatchSpanProcessor, ParentBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace'
import type { Logger } from 'pino'
import type { ErrorCode } from '../../errors.ts'
import { peerAddress } from '../../proxy/client-ip.ts'
import type { Backend } from '../../upstream/types.ts'
import { attachTrace, type RequestTrace } from './request-trace.ts'
import { unsampledTraceparent } from './traceparent.ts'

/**
 * The OpenTelemetry side of tracing, loaded (dynamic import) only when a config sets `[tracing]
 * endpoint`. One TracerProvider per `[tracing]` table, not registered globally, so that a reload
 * can start a new one while the old one flushes.
 */
export interface Tracing {
  /** Starts the request's server span (parent: the client's W3C traceparent) and attaches its trace. */
  start(req: IncomingMessage): void
  /** Exports what is buffered and stops the exporter. */
  shutdown(): Promise<void>
}

/** Export delay of the batch span processor: short, so traces show up soon after the request. */
const EXPORT_DELAY_MS = 1000

const propagator = new W3CTraceContextPropagator()

/** Creates the tracer provider of a `[tracing]` table whose endpoint is set. */
export function createTracing(config: TracingConfig & { endpoint: string }, logger: Logger): Tracing {
  routeDiagnostics(logger)
  const exporter = new OTLPTraceExporter({ url: `${config.endpoint.replace(/\/+$/, '')}/v1/traces` })
  const provider = new TracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ 'service.name': config.service_name })),
    // A sampled parent is honoured whatever the ratio: a trace the client started stays whole.
    // A new trace reaches the SDK only once startRequestTrace has drawn it by the ratio.
    sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: EXPORT_DELAY_MS })],
  })
  const tracer = provider.getTracer('fleetgate')
  return {
    start(req) {
      const requestTrace = startRequestTrace(tracer, config.sampling_ratio, req)
      if (requestTrace !== undefined) attachTrace(req, requestTrace)
    },
    shutdown: () => provider.shutdown(),
  }
}

function startRequestTrace(tracer: Tracer, ratio: number, req: IncomingMessage): RequestTrace | undefined {
  const parent = req.headers.traceparent === undefined ? ROOT_CONTEXT : propagator.extract(ROOT_CONTEXT, req.headers, headerGetter)
  // A new trace (no valid traceparent came): drawn by the ratio here. Most are not sampled, and
  // those cost a random number and, once an upstream is asked, one header: no span, no context.
  if (parent === ROOT_CONTEXT && !(Math.random() < ratio)) return new UnsampledRoot()
  const method = req.method ?? 'GET'
  const server = tracer.startSpan(method, { kind: SpanKind.SERVER }, parent)
  // The client's trace, not sampled: nothing is recorded, and its traceparent goes upstream unchanged.
  if (!server.isRecording()) return undefined
  server.setAttributes(serverAttributes(req, method))
  const serverContext: Context = trace.setSpan(ROOT_CONTEXT, server)
  let attempt: Span | undefined
  return {
    attemptStart(headers, backend, upstream, n) {
      attempt?.end()
      const span = tracer.startSpan(
        `${method} ${upstream}`,
        { kind: SpanKind.CLIENT, attributes: clientAttributes(method, backend, upstream, n) },
        serverContext,
      )
      attempt = span
      return withTraceHeaders(headers, trace.setSpan(ROOT_CONTEXT, span))
    },
    attemptEnd(error, status) {
      if (attempt === undefined) return
      endAttributes(attempt, error, status)
      attempt.end()
      attempt = undefined
    },
    end(location, upstream, outcome) {
      if (attempt !== undefined) this.attemptEnd(outcome.error, outcome.upstreamStatus)
      server.updateName(location === undefined ? method : `${method} ${location}`)
      const attrs: Attributes = { 'http.response.status_code': outcome.status }
      if (location !== undefined) attrs['fleetgate.location'] = location
      if (upstream !== undefined) attrs['fleetgate.upstream'] = upstream
      if (outcome.backend !== undefined) attrs['fleetgate.backend'] = outcome.backend
      if (outcome.error !== undefined || outcome.status >= 500) attrs['error.type'] = outcome.error ?? String(outcome.status)
      server.setAttributes(attrs)
      if (outcome.status >= 500) server.setStatus({ code: SpanStatusCode.ERROR })
      server.end()
    },
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

function endAttributes(span: Span, error: ErrorCode | undefined, status: number | undefined): void {
  if (status !== undefined) span.setAttribute('http.response.status_code', status)
  if (error !== undefined || (status !== undefined && status >= 500)) {
    span.setAttribute('error.type', error ?? String(status))
    span.setStatus({ code: SpanStatusCode.ERROR })
  }
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

/** The upstream headers without the client's trace headers, plus those of `context` (the attempt's span). */
function withTraceHeaders(headers: readonly string[], context: Context): string[] {
  const out = withoutTraceHeaders(headers)
  const carrier: Record<string, string> = {}
  propagator.inject(context, carrier, defaultTextMapSetter)
  for (const name of Object.keys(carrier)) out.push(name, carrier[name] as string)
  return out
}

let diagnosticsRouted = false
/** Sends the SDK's own warnings (failed exports) to the gateway's log, once per process. */
function routeDiagnostics(logger: Logger): void {
  if (diagnosticsRouted) return
  diagnosticsRouted = true
  const warn = (message: string, ...args: unknown[]) =>
    logger.warn({ detail: args.map(String).join(' ') || undefined }, `tracing: ${message}`)
  const ignore = () => {}
  diag.setLogger({ error: warn, warn, info: ignore, debug: ignore, verbose: ignore }, DiagLogLevel.WARN)
}

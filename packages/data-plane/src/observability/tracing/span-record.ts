import type { Attributes } from '@opentelemetry/api'

/**
 * One finished span as the request path records it: plain data, ids already drawn (the upstream
 * was sent them), times in epoch milliseconds. It crosses to the export thread by structured
 * clone, where span-worker.ts makes an OpenTelemetry span of it.
 */
export interface SpanRecord {
  traceId: string
  spanId: string
  /** The parent's span id, or '' for the root of a new trace. */
  parentSpanId: string
  /** The parent came from the client's traceparent (the server span's parent), not from this gateway. */
  parentRemote: boolean
  /** The client's tracestate, serialized, or ''. */
  traceState: string
  name: string
  /** 1 = SERVER, 2 = CLIENT: @opentelemetry/api's SpanKind values. */
  kind: 1 | 2
  startMs: number
  endMs: number
  attributes: Attributes
  error: boolean
}

/** What the gateway sends its export thread: a batch of finished spans, or the request to shut down. */
export type ToSpanWorker = { type: 'spans'; spans: SpanRecord[] } | { type: 'shutdown' }

/** What the export thread sends back: the SDK's own warnings, and the end of a shutdown. */
export type FromSpanWorker = { type: 'warn'; message: string; detail: string } | { type: 'shut' }

/** The worker's start data. */
export interface SpanWorkerData {
  /** The OTLP/HTTP traces URL (endpoint + /v1/traces). */
  url: string
  serviceName: string
}

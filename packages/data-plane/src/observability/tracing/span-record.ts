/*
 * Finished spans as the request path records them, and how they cross to the export thread.
 *
 * A batch is one flat array: each span is SPAN_HEAD values (below), then the values of its kind's
 * attributes in the order of SERVER_ATTRIBUTES or CLIENT_ATTRIBUTES (undefined: not set). No
 * object is made per span or per attribute set, and a list of strings and numbers crosses by
 * structured clone at about a third of the cost of records with named fields (0.28 against 0.78
 * µs a span, measured with postMessage in a loop): a clone writes every key of every object.
 */

// Offsets of a span's leading values: kind, ids, parent, trace state, name, times, error flag.
/** 1 = SERVER, 2 = CLIENT: @opentelemetry/api's SpanKind values. */
export const KIND = 0
export const TRACE_ID = 1
export const SPAN_ID = 2
/** The parent's span id, or '' for the root of a new trace. */
export const PARENT_SPAN_ID = 3
/** true when the parent came from the client's traceparent (the server span's parent), not from this gateway. */
export const PARENT_REMOTE = 4
/** The client's tracestate, serialized, or ''. */
export const TRACE_STATE = 5
export const NAME = 6
/** Start and end in epoch milliseconds. */
export const START_MS = 7
export const END_MS = 8
/** true sets the span's status to ERROR. */
export const ERROR = 9
/** How many leading values a span has; its attribute values follow. */
export const SPAN_HEAD = ERROR + 1

export const SERVER_KIND = 1
export const CLIENT_KIND = 2

/** The server span's attributes (HTTP semantic conventions, then the gateway's own), in batch order. */
export const SERVER_ATTRIBUTES = [
  'http.request.method',
  'url.path',
  'url.scheme',
  'server.address',
  'server.port',
  'network.protocol.version',
  'client.address',
  'user_agent.original',
  'http.response.status_code',
  'fleetgate.location',
  'fleetgate.upstream',
  'fleetgate.backend',
  'error.type',
] as const

/** A client span's (one upstream attempt) attributes, in batch order. */
export const CLIENT_ATTRIBUTES = [
  'http.request.method',
  'server.address',
  'server.port',
  'fleetgate.upstream',
  'fleetgate.backend',
  'http.request.resend_count',
  'http.response.status_code',
  'error.type',
] as const

/** One value of a batch. */
export type SpanValue = string | number | boolean | undefined

/** What the gateway sends its export thread: a batch of finished spans, or the request to shut down. */
export type ToSpanWorker = { type: 'spans'; spans: SpanValue[] } | { type: 'shutdown' }

/** What the export thread sends back: the SDK's own warnings, and the end of a shutdown. */
export type FromSpanWorker = { type: 'warn'; message: string; detail: string } | { type: 'shut' }

/** Where the spans go: the OTLP/HTTP traces URL (endpoint + /v1/traces) and the service name. */
export interface SpanTarget {
  url: string
  serviceName: string
}

/** The worker's start data. */
export interface SpanWorkerData extends SpanTarget {
  /**
   * One Int32 the thread counts the 'spans' messages it has taken in (Atomics.add), so that the
   * main thread sees how many batches wait for it without a message back.
   */
  taken: SharedArrayBuffer
}

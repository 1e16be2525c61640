// The export thread of tracing: the OpenTelemetry SDK's batch span processor and OTLP exporter
// run here, in their own isolate, and take the span records the request path sends
// (span-record.ts) as finished spans. Kept off the main thread, where an export (an OTLP body of
// a few hundred spans serialized at once) would hold up the requests waiting behind it. Measured
// on the main thread at 1 % sampled: with the SDK's node:http transport +17.6 % CPU a request
// (why is not proven: that client shares Node's http code with the proxy's server responses);
// with an undici transport +5.7 %, the same as this thread (bench/README.md, stop 17).
import { parentPort, workerData } from 'node:worker_threads'
import {
  type Attributes,
  createTraceState,
  DiagLogLevel,
  diag,
  type HrTime,
  type Link,
  type SpanContext,
  type SpanKind,
  type SpanStatus,
  SpanStatusCode,
  TraceFlags,
} from '@opentelemetry/api'
import { hrTimeDuration, type InstrumentationScope, millisToHrTime } from '@opentelemetry/core'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { defaultResource, type Resource, resourceFromAttributes } from '@opentelemetry/resources'
import { BatchSpanProcessor, type ReadableSpan, type TimedEvent } from '@opentelemetry/sdk-trace'
import {
  CLIENT_ATTRIBUTES,
  CLIENT_KIND,
  END_MS,
  ERROR,
  type FromSpanWorker,
  KIND,
  NAME,
  PARENT_REMOTE,
  PARENT_SPAN_ID,
  SERVER_ATTRIBUTES,
  SERVER_KIND,
  SPAN_HEAD,
  SPAN_ID,
  type SpanValue,
  type SpanWorkerData,
  START_MS,
  type ToSpanWorker,
  TRACE_ID,
  TRACE_STATE,
} from './span-record.ts'

/** Export delay of the batch span processor: short, so traces show up soon after the request. */
const EXPORT_DELAY_MS = 1000

const port = parentPort
if (port === null) throw new Error('span-worker.ts runs as a worker thread')
const data = workerData as SpanWorkerData

const post = (message: FromSpanWorker) => port.postMessage(message)
const warn = (message: string, ...args: unknown[]) => post({ type: 'warn', message, detail: args.map(String).join(' ') })
const ignore = () => {}
diag.setLogger({ error: warn, warn, info: ignore, debug: ignore, verbose: ignore }, DiagLogLevel.WARN)

const resource = defaultResource().merge(resourceFromAttributes({ 'service.name': data.serviceName }))
const scope: InstrumentationScope = { name: 'fleetgate' }
const processor = new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: data.url }), scheduledDelayMillis: EXPORT_DELAY_MS })

const NO_LINKS: Link[] = []
const NO_EVENTS: TimedEvent[] = []
const OK: SpanStatus = { code: SpanStatusCode.UNSET }
const FAILED: SpanStatus = { code: SpanStatusCode.ERROR }

/**
 * A finished span as the SDK's span processor and OTLP exporter read it, made straight from a
 * record. The request path already drew the sampling decision and the ids, and its attribute
 * values are strings and numbers: the SDK's tracer would only check them again (its sampler and
 * attribute checks were half of this thread's work a span at 1 % sampling).
 */
class RecordedSpan implements ReadableSpan {
  readonly kind: SpanKind
  readonly name: string
  readonly attributes: Attributes
  readonly startTime: HrTime
  readonly endTime: HrTime
  readonly duration: HrTime
  readonly status: SpanStatus
  readonly parentSpanContext: SpanContext | undefined
  readonly #context: SpanContext
  readonly ended = true
  readonly links = NO_LINKS
  readonly events = NO_EVENTS
  readonly resource: Resource = resource
  readonly instrumentationScope = scope
  readonly droppedAttributesCount = 0
  readonly droppedEventsCount = 0
  readonly droppedLinksCount = 0

  constructor(batch: readonly SpanValue[], at: number, kind: SpanKind, attributes: Attributes) {
    this.kind = kind
    this.name = batch[at + NAME] as string
    this.attributes = attributes
    const startTime = millisToHrTime(batch[at + START_MS] as number)
    const endTime = millisToHrTime(batch[at + END_MS] as number)
    const duration = hrTimeDuration(startTime, endTime)
    // As the SDK's own spans: an end before the start (a clock step) is a span of no length.
    const backwards = duration[0] < 0
    this.startTime = startTime
    this.endTime = backwards ? startTime : endTime
    this.duration = backwards ? [0, 0] : duration
    this.status = batch[at + ERROR] === true ? FAILED : OK
    const traceId = batch[at + TRACE_ID] as string
    const serialized = batch[at + TRACE_STATE] as string
    const traceState = serialized === '' ? undefined : createTraceState(serialized)
    this.#context = { traceId, spanId: batch[at + SPAN_ID] as string, traceFlags: TraceFlags.SAMPLED, traceState }
    const parentSpanId = batch[at + PARENT_SPAN_ID] as string
    this.parentSpanContext =
      parentSpanId === ''
        ? undefined
        : { traceId, spanId: parentSpanId, traceFlags: TraceFlags.SAMPLED, isRemote: batch[at + PARENT_REMOTE] === true, traceState }
  }

  spanContext(): SpanContext {
    return this.#context
  }
}

/** Hands the span whose values start at `at` in `batch` to the processor; returns where the next one starts. */
function record(batch: readonly SpanValue[], at: number): number {
  const kind = batch[at + KIND]
  const names = kind === SERVER_KIND ? SERVER_ATTRIBUTES : kind === CLIENT_KIND ? CLIENT_ATTRIBUTES : undefined
  if (names === undefined) throw new Error(`a span of unknown kind ${String(kind)}`)
  const attributes: Attributes = {}
  for (let i = 0; i < names.length; i++) {
    const value = batch[at + SPAN_HEAD + i]
    if (value !== undefined) attributes[names[i] as string] = value
  }
  processor.onEnd(new RecordedSpan(batch, at, kind as SpanKind, attributes))
  return at + SPAN_HEAD + names.length
}

const taken = new Int32Array(data.taken)

port.on('message', (message: ToSpanWorker) => {
  if (message.type === 'spans') {
    const batch = message.spans
    try {
      for (let at = 0; at < batch.length; ) at = record(batch, at)
    } catch (err) {
      // Past a span that cannot be read, where the next one starts is unknown.
      warn('span records were dropped', err)
    }
    Atomics.add(taken, 0, 1)
    return
  }
  processor.shutdown().then(
    () => post({ type: 'shut' }),
    (err: unknown) => {
      warn('flush at shutdown failed', err)
      post({ type: 'shut' })
    },
  )
})

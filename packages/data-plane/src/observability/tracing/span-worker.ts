// The export thread of tracing: the OpenTelemetry SDK (tracer provider, batch span processor, OTLP
// exporter) runs here, in its own isolate, and turns the span records the request path sends
// (span-record.ts) into spans. Kept off the main thread because on it, even 1% of requests
// sampled slowed every request by several percent (the SDK's code and objects, met rarely,
// disturbed the proxy's optimised code and caches); here it costs the proxy a postMessage a batch.
import { parentPort, workerData } from 'node:worker_threads'
import {
  type Attributes,
  type Context,
  createTraceState,
  DiagLogLevel,
  diag,
  ROOT_CONTEXT,
  SpanStatusCode,
  TraceFlags,
  trace,
} from '@opentelemetry/api'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources'
import { AlwaysOnSampler, BatchSpanProcessor, type IdGenerator, ParentBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace'
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

/** The ids were drawn on the request path (the upstream already has them): the SDK takes those. */
class RecordedIds implements IdGenerator {
  traceId = ''
  spanId = ''
  generateTraceId(): string {
    return this.traceId
  }
  generateSpanId(): string {
    return this.spanId
  }
}

const ids = new RecordedIds()
const provider = new TracerProvider({
  resource: defaultResource().merge(resourceFromAttributes({ 'service.name': data.serviceName })),
  // Every record is of a sampled trace: the request path drew the ratio or followed the client.
  sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
  idGenerator: ids,
  spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: data.url }), scheduledDelayMillis: EXPORT_DELAY_MS })],
})
const tracer = provider.getTracer('fleetgate')

/** Makes and ends the span whose values start at `at` in `batch`; returns where the next one starts. */
function record(batch: readonly SpanValue[], at: number): number {
  const kind = batch[at + KIND]
  const names = kind === SERVER_KIND ? SERVER_ATTRIBUTES : kind === CLIENT_KIND ? CLIENT_ATTRIBUTES : undefined
  if (names === undefined) throw new Error(`a span of unknown kind ${String(kind)}`)
  const attributes: Attributes = {}
  for (let i = 0; i < names.length; i++) {
    const value = batch[at + SPAN_HEAD + i]
    if (value !== undefined) attributes[names[i] as string] = value
  }
  const traceId = batch[at + TRACE_ID] as string
  const parentSpanId = batch[at + PARENT_SPAN_ID] as string
  const traceState = batch[at + TRACE_STATE] as string
  ids.traceId = traceId
  ids.spanId = batch[at + SPAN_ID] as string
  let parent: Context = ROOT_CONTEXT
  if (parentSpanId !== '') {
    parent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId,
      spanId: parentSpanId,
      traceFlags: TraceFlags.SAMPLED,
      isRemote: batch[at + PARENT_REMOTE] === true,
      traceState: traceState === '' ? undefined : createTraceState(traceState),
    })
  }
  const options = { kind: kind as number, startTime: batch[at + START_MS] as number, attributes }
  const span = tracer.startSpan(batch[at + NAME] as string, options, parent)
  if (batch[at + ERROR] === true) span.setStatus({ code: SpanStatusCode.ERROR })
  span.end(batch[at + END_MS] as number)
  return at + SPAN_HEAD + names.length
}

port.on('message', (message: ToSpanWorker) => {
  if (message.type === 'spans') {
    const batch = message.spans
    try {
      for (let at = 0; at < batch.length; ) at = record(batch, at)
    } catch (err) {
      // Past a span that cannot be read, where the next one starts is unknown.
      warn('span records were dropped', err)
    }
    return
  }
  provider.shutdown().then(
    () => post({ type: 'shut' }),
    (err: unknown) => {
      warn('flush at shutdown failed', err)
      post({ type: 'shut' })
    },
  )
})

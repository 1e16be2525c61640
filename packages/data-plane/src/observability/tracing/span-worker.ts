// The export thread of tracing: the OpenTelemetry SDK (tracer provider, batch span processor, OTLP
// exporter) runs here, in its own isolate, and turns the span records the request path sends
// (span-record.ts) into spans. Kept off the main thread because on it, even 1% of requests
// sampled slowed every request by several percent (the SDK's code and objects, met rarely,
// disturbed the proxy's optimised code and caches); here it costs the proxy a postMessage a batch.
import { parentPort, workerData } from 'node:worker_threads'
import { type Context, createTraceState, DiagLogLevel, diag, ROOT_CONTEXT, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources'
import { AlwaysOnSampler, BatchSpanProcessor, type IdGenerator, ParentBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace'
import type { FromSpanWorker, SpanRecord, SpanWorkerData, ToSpanWorker } from './span-record.ts'

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

function record(r: SpanRecord): void {
  ids.traceId = r.traceId
  ids.spanId = r.spanId
  let parent: Context = ROOT_CONTEXT
  if (r.parentSpanId !== '') {
    parent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: r.traceId,
      spanId: r.parentSpanId,
      traceFlags: TraceFlags.SAMPLED,
      isRemote: r.parentRemote,
      traceState: r.traceState === '' ? undefined : createTraceState(r.traceState),
    })
  }
  const span = tracer.startSpan(r.name, { kind: r.kind, startTime: r.startMs, attributes: r.attributes }, parent)
  if (r.error) span.setStatus({ code: SpanStatusCode.ERROR })
  span.end(r.endMs)
}

port.on('message', (message: ToSpanWorker) => {
  if (message.type === 'spans') {
    for (const r of message.spans) {
      try {
        record(r)
      } catch (err) {
        warn('a span record was dropped', err)
      }
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

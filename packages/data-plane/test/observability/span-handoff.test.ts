// The handoff of finished spans to the export thread: a thread that has not taken in what it was
// given gets no more (the spans are dropped and reported), and takes spans again once it caught up.
// A real export thread exports to a real OTLP/HTTP receiver.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import { waitFor } from '@fleetgate/testkit'
import { pino } from 'pino'
import { SpanHandoff } from '../../src/observability/tracing/span-handoff.ts'
import { SERVER_ATTRIBUTES, SERVER_KIND } from '../../src/observability/tracing/span-record.ts'

/** Finished traces a flush hands over at once (span-handoff.ts HANDOFF_TRACES); one span each here. */
const BATCH = 128

/** Hands over a finished trace of one server span, which it writes in span-record.ts's layout. */
function addSpan(handoff: SpanHandoff, n: number): void {
  const traceId = n.toString(16).padStart(32, '0').replace(/^0/, 'a')
  const spanId = n.toString(16).padStart(16, '0').replace(/^0/, 'b')
  const start = Date.now()
  const attributes = ['GET', '/x', 'http', 'example.test', 80, '1.1', '127.0.0.1', undefined, 200, 'api', 'api', '127.0.0.1:1', undefined]
  assert.equal(attributes.length, SERVER_ATTRIBUTES.length)
  handoff.finished({
    writeSpans(batch) {
      batch.push(SERVER_KIND, traceId, spanId, '', false, '', 'GET api', start, start + 1, false, ...attributes)
      return 1
    },
  })
}

test('batches the export thread has not taken in are dropped, reported, and the handoff resumes once it caught up', async () => {
  let received = 0
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resourceSpans: { scopeSpans: { spans: unknown[] }[] }[] }
      for (const r of body.resourceSpans) for (const s of r.scopeSpans) received += s.spans.length
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  const lines: { level: number; msg: string; detail?: string; dropped?: number }[] = []
  const logger = pino(
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString('utf8')))
        done()
      },
    }),
  )
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/traces`
  const handoff = new SpanHandoff({ url, serviceName: 'handoff-test' }, logger, 2)
  try {
    // Five full batches in one synchronous run: the thread, still starting (it loads the SDK),
    // has taken in none of them, so the first two wait for it and the other three are dropped.
    for (let n = 1; n <= 5 * BATCH; n++) addSpan(handoff, n)
    const warning = lines.find((l) => l.msg === 'tracing: the span export thread is behind; spans were dropped')
    assert.ok(warning, `a warning says spans were dropped: ${JSON.stringify(lines)}`)
    assert.equal(warning.level, 40)
    // Logged at the first drop; the warning is held back for a minute after it.
    assert.equal(warning.detail, `${BATCH} spans dropped since tracing started`)
    assert.equal(lines.filter((l) => l.msg === warning.msg).length, 1, 'the warning is logged once, not per batch')

    await waitFor('the two batches handed over to be exported', () => received === 2 * BATCH || undefined, 15_000)
    // Caught up: the next batch is handed over again.
    for (let n = 1; n <= BATCH; n++) addSpan(handoff, 10_000 + n)
    await handoff.shutdown()
    assert.equal(received, 3 * BATCH)
    const total = lines.find((l) => l.msg === 'tracing: spans dropped while the export thread was behind, in all')
    assert.equal(total?.dropped, 3 * BATCH, 'the shutdown logs how many were dropped in all')
  } finally {
    await handoff.shutdown()
    receiver.close()
  }
})

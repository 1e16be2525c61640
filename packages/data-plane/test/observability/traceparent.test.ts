// The W3C traceparents and ids the request path draws for traces (tracing/traceparent.ts).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatTraceparents, newSpanId, newTraceId, unsampledTraceparent } from '../../src/observability/tracing/traceparent.ts'

const UNSAMPLED = /^00-([0-9a-f]{32})-([0-9a-f]{16})-00$/

test('unsampled traceparents are well formed and all different, across several batches', () => {
  const seen = new Set<string>()
  const traceIds = new Set<string>()
  // 256 are made at a time, from random bytes drawn for 16 batches: this crosses refills of both.
  for (let i = 0; i < 5000; i++) {
    const value = unsampledTraceparent()
    const match = UNSAMPLED.exec(value)
    assert.ok(match, `malformed: ${value}`)
    seen.add(value)
    traceIds.add(match[1] as string)
  }
  assert.equal(seen.size, 5000)
  assert.equal(traceIds.size, 5000)
})

test('formatTraceparents writes each 24 random bytes as a trace id and a parent id, in order', () => {
  const random = Buffer.alloc(72)
  for (let i = 0; i < 72; i++) random[i] = i * 5 + 1
  const into = Buffer.alloc(165)
  for (let i = 0; i < 3; i++) into.write(`00-${'0'.repeat(32)}-${'0'.repeat(16)}-00`, i * 55, 'latin1')
  // Two traceparents from the second one's bytes on: the third slot of `into` is not returned.
  const text = formatTraceparents(random, 24, 2, into)
  assert.equal(text.length, 110)
  assert.equal(text.slice(0, 55), `00-${random.toString('hex', 24, 40)}-${random.toString('hex', 40, 48)}-00`)
  assert.equal(text.slice(55), `00-${random.toString('hex', 48, 64)}-${random.toString('hex', 64, 72)}-00`)
})

test('an all-zero trace id or parent id, invalid in W3C Trace Context, is never written', () => {
  const random = Buffer.alloc(24)
  const into = Buffer.from(`00-${'0'.repeat(32)}-${'0'.repeat(16)}-00`, 'latin1')
  const text = formatTraceparents(random, 0, 1, into)
  assert.equal(text, `00-01${'0'.repeat(30)}-01${'0'.repeat(14)}-00`)
})

test('sampled trace ids and span ids are lower-case hex of their length, not all zero, and all different', () => {
  const traces = new Set<string>()
  const spans = new Set<string>()
  for (let i = 0; i < 600; i++) {
    const traceId = newTraceId()
    const spanId = newSpanId()
    assert.match(traceId, /^[0-9a-f]{32}$/)
    assert.match(spanId, /^[0-9a-f]{16}$/)
    traces.add(traceId)
    spans.add(spanId)
  }
  assert.equal(traces.size, 600)
  assert.equal(spans.size, 600)
})

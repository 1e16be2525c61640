import { RandomPool, writeHex } from '../../random-pool.ts'

/** A trace id (16 bytes) and a parent span id (8 bytes) per traceparent. */
const random = new RandomPool(24)

/** "00-" trace id "-" span id "-00": written here as ASCII, read out as one string. */
const text = Buffer.from(`00-${'0'.repeat(32)}-${'0'.repeat(16)}-00`, 'latin1')

/**
 * A W3C traceparent for a new trace that is not sampled (flags 00): the upstream learns the trace
 * id and that nothing is recorded, so its own parent-based sampler declines too and no trace is
 * left half-exported.
 */
export function unsampledTraceparent(): string {
  const bytes = random.bytes
  const at = random.take()
  notAllZero(bytes, at, 16)
  notAllZero(bytes, at + 16, 8)
  writeHex(bytes, at, 16, text, 3)
  writeHex(bytes, at + 16, 8, text, 36)
  return text.toString('latin1')
}

const traceIds = new RandomPool(16)
const spanIds = new RandomPool(8)

/** A new trace id for a sampled trace: 32 lower-case hex digits, never all zero. */
export function newTraceId(): string {
  return nonZeroHex(traceIds, 16)
}

/** A new span id: 16 lower-case hex digits, never all zero. */
export function newSpanId(): string {
  return nonZeroHex(spanIds, 8)
}

function nonZeroHex(pool: RandomPool, size: number): string {
  const at = pool.take()
  notAllZero(pool.bytes, at, size)
  return pool.bytes.toString('hex', at, at + size)
}

/** All-zero ids are invalid (W3C Trace Context 3.2.2.3, 3.2.2.4): one chance in 2^64 at worst, then a bit is set. */
function notAllZero(bytes: Buffer, at: number, size: number): void {
  for (let i = at; i < at + size; i++) if (bytes[i] !== 0) return
  bytes[at] = 1
}

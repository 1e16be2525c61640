import { RandomPool, writeHex } from '../../random-pool.ts'

/** How many unsampled traceparents are made at a time. */
const BATCH = 256
/** "00-" trace id (32 hex digits) "-" parent span id (16) "-00". */
const TEMPLATE = `00-${'0'.repeat(32)}-${'0'.repeat(16)}-00`
const LENGTH = TEMPLATE.length
/** A trace id (16 bytes) and a parent span id (8) per traceparent. */
const RANDOM_BYTES = 24

/** Random bytes for a batch at a time, drawn from the OS for 16 batches at once (see RandomPool). */
const random = new RandomPool(RANDOM_BYTES * BATCH, 16)
const text = Buffer.alloc(LENGTH * BATCH)
for (let i = 0; i < BATCH; i++) text.write(TEMPLATE, i * LENGTH, 'latin1')
let batch = ''
let next = BATCH

/**
 * A W3C traceparent for a new trace that is not sampled (flags 00): the upstream learns the trace
 * id and that nothing is recorded, so its own parent-based sampler declines too and no trace is
 * left half-exported.
 *
 * Every request that is not sampled gets one, so they are made BATCH at a time into one string,
 * and each is a slice of it (V8 makes a view, not a copy). Measured in the gateway under load (a
 * timer around the call), this takes 0.25 µs a request; writing each into a Buffer and reading it
 * out with toString took 0.43 µs, about 1 % of a proxied request.
 */
export function unsampledTraceparent(): string {
  if (next === BATCH) {
    batch = formatTraceparents(random.bytes, random.take(), BATCH, text)
    next = 0
  }
  const at = next++ * LENGTH
  return batch.slice(at, at + LENGTH)
}

/**
 * Writes `count` traceparents' ids, from `random` at `from` (24 bytes each: trace id, then parent
 * span id), as hex into the traceparents laid out in `into`, and returns them as one string. An
 * all-zero id, invalid in W3C Trace Context, has its first byte set to 1 first.
 */
export function formatTraceparents(random: Buffer, from: number, count: number, into: Buffer): string {
  for (let i = 0; i < count; i++) {
    const at = from + i * RANDOM_BYTES
    notAllZero(random, at, 16)
    notAllZero(random, at + 16, 8)
    writeHex(random, at, 16, into, i * LENGTH + 3)
    writeHex(random, at + 16, 8, into, i * LENGTH + 36)
  }
  return into.toString('latin1', 0, count * LENGTH)
}

/**
 * A new trace id for a sampled trace: 32 lower-case hex digits, never all zero. Taken from the
 * unsampled traceparents, whose code every request runs: a sampled request, 1 % of them say,
 * found separate code cold, and its ids cost 3 µs instead of a fraction of one.
 */
export function newTraceId(): string {
  return unsampledTraceparent().slice(3, 35)
}

/** A new span id: 16 lower-case hex digits, never all zero. */
export function newSpanId(): string {
  return unsampledTraceparent().slice(36, 52)
}

/** All-zero ids are invalid (W3C Trace Context 3.2.2.3, 3.2.2.4): one chance in 2^64 at worst, then a bit is set. */
function notAllZero(bytes: Buffer, at: number, size: number): void {
  for (let i = at; i < at + size; i++) if (bytes[i] !== 0) return
  bytes[at] = 1
}

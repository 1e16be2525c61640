import { randomFillSync } from 'node:crypto'

/** A trace id (16 bytes) and a parent span id (8 bytes) per traceparent. */
const ID_BYTES = 24
const POOL_IDS = 256
const pool = Buffer.alloc(ID_BYTES * POOL_IDS)
let next = POOL_IDS

/** "00-" trace id "-" span id "-00": written here as ASCII, read out as one string. */
const text = Buffer.from(`00-${'0'.repeat(32)}-${'0'.repeat(16)}-00`, 'latin1')
const HEX = Buffer.from('0123456789abcdef', 'latin1')

/**
 * A W3C traceparent for a new trace that is not sampled (flags 00): the upstream learns the trace
 * id and that nothing is recorded, so its own parent-based sampler declines too and no trace is
 * left half-exported. Random bytes are drawn 6 KiB at a time: one syscall per 256 headers.
 */
export function unsampledTraceparent(): string {
  if (next === POOL_IDS) {
    randomFillSync(pool)
    next = 0
  }
  const at = next * ID_BYTES
  next++
  // All-zero ids are invalid (W3C Trace Context 3.2.2.3, 3.2.2.4); one chance in 2^64 at worst.
  if ((pool.readUInt32LE(at) | pool.readUInt32LE(at + 4) | pool.readUInt32LE(at + 8) | pool.readUInt32LE(at + 12)) === 0) pool[at] = 1
  if ((pool.readUInt32LE(at + 16) | pool.readUInt32LE(at + 20)) === 0) pool[at + 16] = 1
  let o = 3
  for (let i = 0; i < ID_BYTES; i++) {
    if (i === 16) o++ // the dash between the trace id and the span id
    const byte = pool[at + i] as number
    text[o++] = HEX[byte >> 4] as number
    text[o++] = HEX[byte & 0x0f] as number
  }
  return text.toString('latin1')
}

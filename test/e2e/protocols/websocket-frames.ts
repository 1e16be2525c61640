// A minimal RFC 6455 frame codec for the RFC 8441 tests: `ws` has no HTTP/2 client, so frames
// are written and read by hand on a node:http2 stream.
import { randomBytes } from 'node:crypto'
import type { Readable } from 'node:stream'

/** One decoded frame. */
export interface Frame {
  fin: boolean
  opcode: number
  payload: Buffer
}

export const OP_TEXT = 0x1
export const OP_BINARY = 0x2
export const OP_CLOSE = 0x8

/** Encodes one frame; client frames are masked (RFC 6455 section 5.3). */
export function encodeFrame(opcode: number, payload: Buffer, options: { fin?: boolean; mask?: boolean } = {}): Buffer {
  const fin = options.fin ?? true
  const mask = options.mask ?? true
  const len = payload.length
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8
  const head = Buffer.alloc(2 + ext + (mask ? 4 : 0))
  head[0] = (fin ? 0x80 : 0) | opcode
  head[1] = (mask ? 0x80 : 0) | (ext === 0 ? len : ext === 2 ? 126 : 127)
  if (ext === 2) head.writeUInt16BE(len, 2)
  if (ext === 8) head.writeBigUInt64BE(BigInt(len), 2)
  if (!mask) return Buffer.concat([head, payload])
  const key = randomBytes(4)
  key.copy(head, 2 + ext)
  const masked = Buffer.alloc(len)
  for (let i = 0; i < len; i++) masked[i] = (payload[i] as number) ^ (key[i & 3] as number)
  return Buffer.concat([head, masked])
}

/** A close frame's payload: the code and a UTF-8 reason. */
export function closePayload(code: number, reason: string): Buffer {
  const out = Buffer.alloc(2 + Buffer.byteLength(reason))
  out.writeUInt16BE(code, 0)
  out.write(reason, 2)
  return out
}

/** Reads frames off `stream` as they complete; `next()` resolves with the next one (rejects after `timeoutMs`). */
export function frameReader(stream: Readable): { next(timeoutMs?: number): Promise<Frame> } {
  let buffered = Buffer.alloc(0)
  const frames: Frame[] = []
  const waiters: Array<(f: Frame) => void> = []
  stream.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk])
    for (;;) {
      const frame = takeFrame()
      if (frame === undefined) break
      const waiter = waiters.shift()
      if (waiter) waiter(frame)
      else frames.push(frame)
    }
  })
  const takeFrame = (): Frame | undefined => {
    if (buffered.length < 2) return undefined
    const b0 = buffered[0] as number
    const b1 = buffered[1] as number
    let len = b1 & 0x7f
    let offset = 2
    if (len === 126) {
      if (buffered.length < 4) return undefined
      len = buffered.readUInt16BE(2)
      offset = 4
    } else if (len === 127) {
      if (buffered.length < 10) return undefined
      len = Number(buffered.readBigUInt64BE(2))
      offset = 10
    }
    const masked = (b1 & 0x80) !== 0
    const keyAt = offset
    if (masked) offset += 4
    if (buffered.length < offset + len) return undefined
    const payload = Buffer.from(buffered.subarray(offset, offset + len))
    if (masked) for (let i = 0; i < len; i++) payload[i] = (payload[i] as number) ^ (buffered[keyAt + (i & 3)] as number)
    buffered = buffered.subarray(offset + len)
    return { fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, payload }
  }
  return {
    next(timeoutMs = 5000) {
      const ready = frames.shift()
      if (ready) return Promise.resolve(ready)
      return new Promise((resolve, reject) => {
        const waiter = (f: Frame) => {
          clearTimeout(timer)
          resolve(f)
        }
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1)
          reject(new Error('no WebSocket frame in time'))
        }, timeoutMs)
        waiters.push(waiter)
      })
    },
  }
}

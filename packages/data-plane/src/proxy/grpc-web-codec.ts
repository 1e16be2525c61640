import { Transform, type TransformCallback } from 'node:stream'
import { GatewayError } from '../errors.ts'

/** The flag byte of a gRPC-web frame that carries trailers instead of a message. */
export const TRAILER_FLAG = 0x80

/** How a gRPC-web request is framed: its content type, the gRPC one it maps to, and base64 or not. */
export interface GrpcWebMode {
  /** True for application/grpc-web-text (base64 body both ways). */
  text: boolean
  /** The request's content type without parameters, echoed on the response. */
  webType: string
  /** The content type sent upstream: application/grpc plus the same "+proto"/"+json" suffix. */
  grpcType: string
}

const WEB = 'application/grpc-web'
const WEB_TEXT = 'application/grpc-web-text'

/** The gRPC-web mode of a Content-Type, or undefined when it is not a gRPC-web one. */
export function grpcWebMode(contentType: string | undefined): GrpcWebMode | undefined {
  if (contentType === undefined) return undefined
  const semicolon = contentType.indexOf(';')
  const webType = (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase()
  if (!webType.startsWith(WEB)) return undefined
  const text = webType.startsWith(WEB_TEXT)
  const suffix = webType.slice(text ? WEB_TEXT.length : WEB.length)
  if (suffix !== '' && !/^\+[a-z0-9.-]+$/.test(suffix)) return undefined
  return { text, webType, grpcType: `application/grpc${suffix}` }
}

/**
 * The final frame of a gRPC-web response: flag 0x80, a 4-byte big-endian length, then the
 * trailers as an HTTP/1 header block ("name: value\r\n", names lower-case).
 */
export function encodeTrailerFrame(trailers: ReadonlyArray<readonly [string, string]>): Buffer {
  let block = ''
  for (const [name, value] of trailers) block += `${name.toLowerCase()}: ${value}\r\n`
  const payload = Buffer.from(block, 'latin1')
  const frame = Buffer.allocUnsafe(5 + payload.length)
  frame[0] = TRAILER_FLAG
  frame.writeUInt32BE(payload.length, 1)
  payload.copy(frame, 5)
  return frame
}

/**
 * Base64 for a streamed response body. The caller flushes (padded) when a chunk completes a
 * message frame, so a message goes out as soon as it is whole (the gRPC-web spec lets padding
 * appear mid-body, and clients decode quad by quad); otherwise whole 3-byte groups are encoded
 * and the 0..2 bytes left over wait for the next chunk, so no padding ever splits a frame.
 */
export class Base64Encoder {
  #rest: Buffer | undefined

  /** The base64 of `chunk` as far as it can go out now (maybe empty); all of it, padded, with `flush`. */
  encode(chunk: Buffer, flush: boolean): Buffer {
    const bytes = this.#rest === undefined ? chunk : Buffer.concat([this.#rest, chunk])
    const whole = flush ? bytes.length : bytes.length - (bytes.length % 3)
    this.#rest = whole === bytes.length ? undefined : bytes.subarray(whole)
    return whole === 0 ? EMPTY : Buffer.from(bytes.subarray(0, whole).toString('base64'), 'latin1')
  }

  /** The base64 of what is left plus `tail`, padded: the end of the stream. */
  finish(tail: Buffer): Buffer {
    const bytes = this.#rest === undefined ? tail : Buffer.concat([this.#rest, tail])
    this.#rest = undefined
    return Buffer.from(bytes.toString('base64'), 'latin1')
  }
}

/**
 * Follows gRPC frame boundaries (1 flag byte, 4 length bytes, payload) across the chunks of a
 * body, without copying the payloads.
 */
export class FrameTracker {
  readonly #header = Buffer.alloc(5)
  #headerFill = 0
  #payloadLeft = 0

  /** Consumes `chunk`; true when the body so far ends exactly at the end of a frame. */
  advance(chunk: Buffer): boolean {
    let at = 0
    while (at < chunk.length) {
      if (this.#payloadLeft > 0) {
        const n = Math.min(this.#payloadLeft, chunk.length - at)
        this.#payloadLeft -= n
        at += n
        continue
      }
      const n = Math.min(5 - this.#headerFill, chunk.length - at)
      chunk.copy(this.#header, this.#headerFill, at, at + n)
      this.#headerFill += n
      at += n
      if (this.#headerFill === 5) {
        this.#headerFill = 0
        this.#payloadLeft = this.#header.readUInt32BE(1)
      }
    }
    return this.isAtBoundary
  }

  /** True when no frame is partly received. */
  get isAtBoundary(): boolean {
    return this.#payloadLeft === 0 && this.#headerFill === 0
  }
}

const EMPTY = Buffer.alloc(0)
const NOT_BASE64 = /[^A-Za-z0-9+/=]/
const WHITESPACE = /\s/
const PADDED_QUAD = /^[A-Za-z0-9+/]{2}(==|[A-Za-z0-9+/]=)$/

/**
 * Decodes a gRPC-web-text request body as it streams. Clients may send several base64 runs one
 * after another, each padded on its own (one per message), so padding can appear mid-body:
 * the text is decoded quad by quad, and a padded quad closes a run. Whitespace is ignored; any
 * other non-base64 byte, misplaced padding or a truncated quad at the end fails the body
 * with BAD_REQUEST.
 */
export class Base64DecodeStream extends Transform {
  #pending = ''

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let text = this.#pending + chunk.toString('latin1')
    if (WHITESPACE.test(text)) text = text.replace(/\s+/g, '')
    if (NOT_BASE64.test(text)) {
      callback(badBody('gRPC-web-text body is not base64'))
      return
    }
    const whole = text.length - (text.length % 4)
    this.#pending = text.slice(whole)
    const decoded = decodeQuads(text.slice(0, whole))
    if (decoded === undefined) callback(badBody('gRPC-web-text body has misplaced base64 padding'))
    else callback(null, decoded.length === 0 ? undefined : decoded)
  }

  override _flush(callback: TransformCallback): void {
    callback(this.#pending === '' ? null : badBody('gRPC-web-text body ends in the middle of a base64 group'))
  }
}

/** Decodes whole base64 quads where any padded quad ends a run; undefined when padding is misplaced. */
function decodeQuads(text: string): Buffer | undefined {
  let start = 0
  let pad = text.indexOf('=')
  if (pad < 0) return Buffer.from(text, 'base64')
  const parts: Buffer[] = []
  while (pad >= 0) {
    const quadStart = pad - (pad % 4)
    const quadEnd = quadStart + 4
    if (!PADDED_QUAD.test(text.slice(quadStart, quadEnd))) return undefined
    parts.push(Buffer.from(text.slice(start, quadEnd), 'base64'))
    start = quadEnd
    pad = text.indexOf('=', start)
  }
  if (start < text.length) parts.push(Buffer.from(text.slice(start), 'base64'))
  return Buffer.concat(parts)
}

function badBody(detail: string): GatewayError {
  return new GatewayError('BAD_REQUEST', detail)
}

import type { IncomingMessage } from 'node:http'
import type { Readable } from 'node:stream'
import { encodeGrpcMessage } from '../error-response.ts'
import type { ForwardPlan } from './forward.ts'
import { Base64DecodeStream, Base64Encoder, encodeTrailerFrame, FrameTracker, type GrpcWebMode, grpcWebMode } from './grpc-web-codec.ts'

/** Trailers as undici hands them to onComplete: raw buffers (HTTP/1.1) or an object (HTTP/2). */
export type UpstreamTrailers = Buffer[] | Record<string, string | string[] | undefined> | null

/**
 * One gRPC-web request translated to gRPC (a `grpc_web = true` location): the request goes
 * upstream as application/grpc with `te: trailers`, and the response comes back as gRPC-web:
 * the same message frames, then the upstream's trailers as a final 0x80 frame, all base64 in
 * text mode. Nothing is buffered beyond the 0..3 bytes base64 needs to stay aligned.
 */
export interface GrpcWebTranslation {
  readonly mode: GrpcWebMode
  /** The body to send upstream: `source` as is, or base64-decoded in text mode. */
  requestBody(source: Readable): Readable
  /**
   * Rewrites the upstream's response head (flat [name, value, ...]) in place: the gRPC-web
   * content type, no content-length, and a trailers-only status moved into the trailer frame.
   * A response that is not gRPC at all (an HTML error page) is passed through untouched.
   */
  responseHead(headers: string[]): void
  /** A body chunk as the client gets it (in text mode base64, possibly empty). */
  responseData(chunk: Buffer): Buffer
  /** The last bytes of the body: the trailer frame, or nothing for a passed-through response. */
  responseEnd(trailers: UpstreamTrailers): Buffer
  /**
   * The last bytes of a body cut short by an upstream failure: a trailer frame with that
   * status, or undefined when the body stopped inside a message (the client must see a broken
   * response then, not a frame glued to half a message).
   */
  responseError(grpcStatus: number, message: string): Buffer | undefined
}

/** Status trailers a trailers-only gRPC response carries in its head. */
const STATUS_FIELDS = new Set(['grpc-status', 'grpc-message', 'grpc-status-details-bin'])

/**
 * Starts the translation of `req` when it is a gRPC-web request, rewriting the upstream request
 * headers (flat list, in place); undefined (and nothing changed) for any other request.
 */
export function startGrpcWeb(req: IncomingMessage, upstreamHeaders: string[]): GrpcWebTranslation | undefined {
  const mode = grpcWebMode(req.headers['content-type'])
  if (mode === undefined) return undefined
  toGrpcRequestHeaders(upstreamHeaders, mode.grpcType)
  return new GrpcWebExchange(mode)
}

/** Content type to gRPC's, no content-length (text mode changes it), `te: trailers` exactly once. */
function toGrpcRequestHeaders(headers: string[], grpcType: string): void {
  let w = 0
  for (let r = 0; r < headers.length; r += 2) {
    const lower = (headers[r] as string).toLowerCase()
    if (lower === 'content-length' || lower === 'te') continue
    headers[w++] = headers[r] as string
    headers[w++] = lower === 'content-type' ? grpcType : (headers[r + 1] as string)
  }
  headers.length = w
  headers.push('te', 'trailers')
}

class GrpcWebExchange implements GrpcWebTranslation {
  readonly mode: GrpcWebMode
  readonly #encoder: Base64Encoder | undefined
  readonly #frames = new FrameTracker()
  /** False when the upstream answered something other than gRPC: its body passes through. */
  #isGrpc = true
  /** Status fields of a trailers-only head, for the trailer frame. */
  #headStatus: Array<[string, string]> = []

  constructor(mode: GrpcWebMode) {
    this.mode = mode
    this.#encoder = mode.text ? new Base64Encoder() : undefined
  }

  requestBody(source: Readable): Readable {
    if (!this.mode.text) return source
    const decoded = new Base64DecodeStream()
    source.once('error', (err) => decoded.destroy(err))
    return source.pipe(decoded)
  }

  responseHead(headers: string[]): void {
    const type = flatGet(headers, 'content-type')
    if (type === undefined || !type.toLowerCase().startsWith('application/grpc')) {
      this.#isGrpc = false
      return
    }
    let w = 0
    for (let r = 0; r < headers.length; r += 2) {
      const name = headers[r] as string
      const lower = name.toLowerCase()
      const value = headers[r + 1] as string
      if (lower === 'content-length') continue
      if (STATUS_FIELDS.has(lower)) {
        this.#headStatus.push([lower, value])
        continue
      }
      headers[w++] = name
      headers[w++] = lower === 'content-type' ? this.mode.webType : value
    }
    headers.length = w
  }

  responseData(chunk: Buffer): Buffer {
    if (!this.#isGrpc) return chunk
    const atBoundary = this.#frames.advance(chunk)
    return this.#encoder === undefined ? chunk : this.#encoder.encode(chunk, atBoundary)
  }

  responseEnd(trailers: UpstreamTrailers): Buffer {
    if (!this.#isGrpc) return EMPTY
    return this.#frame(this.#headStatus.concat(trailerEntries(trailers)))
  }

  responseError(grpcStatus: number, message: string): Buffer | undefined {
    if (!this.#isGrpc || !this.#frames.isAtBoundary) return undefined
    return this.#frame([
      ['grpc-status', String(grpcStatus)],
      ['grpc-message', encodeGrpcMessage(message)],
    ])
  }

  #frame(entries: ReadonlyArray<readonly [string, string]>): Buffer {
    const frame = encodeTrailerFrame(entries)
    return this.#encoder === undefined ? frame : this.#encoder.finish(frame)
  }
}

const EMPTY = Buffer.alloc(0)

function flatGet(headers: readonly string[], lower: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) if ((headers[i] as string).toLowerCase() === lower) return headers[i + 1]
  return undefined
}

/** undici's trailers as [name, value] pairs, names lower-case, repeated values kept apart. */
function trailerEntries(trailers: UpstreamTrailers): Array<[string, string]> {
  const out: Array<[string, string]> = []
  if (trailers == null) return out
  if (Array.isArray(trailers)) {
    for (let i = 0; i + 1 < trailers.length; i += 2) {
      out.push([(trailers[i] as Buffer).toString('latin1').toLowerCase(), (trailers[i + 1] as Buffer).toString('latin1')])
    }
    return out
  }
  for (const name of Object.keys(trailers)) {
    if (name.charCodeAt(0) === 58 /* : */) continue
    const value = trailers[name]
    if (value === undefined) continue
    for (const one of Array.isArray(value) ? value : [value]) out.push([name.toLowerCase(), one])
  }
  return out
}

/**
 * Turns a planned exchange into a gRPC-web one when its request is gRPC-web (content type),
 * for a `grpc_web = true` location: upstream headers rewritten, `body` (the client's body
 * stream, or null) decoded on the way, never buffered nor retried. False, with the plan
 * untouched, for any other request.
 */
export function useGrpcWeb(plan: ForwardPlan, body: Readable | null): boolean {
  const translation = startGrpcWeb(plan.req, plan.headers)
  if (translation === undefined) return false
  plan.grpcWeb = translation
  plan.body = body === null ? null : translation.requestBody(body)
  plan.retryable = body === null
  // The translation moves a trailers-only status into the body itself.
  plan.grpc = false
  return true
}

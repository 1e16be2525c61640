import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'
import type { Dispatcher } from 'undici'
import { sendError } from '../error-response.ts'
import { type ErrorCode, GatewayError, isConnectFailure, upstreamErrorCode } from '../errors.ts'
import type { ResponseHead } from '../plugins/types.ts'
import type { Backend, BalanceRequest, Upstream } from '../upstream/types.ts'
import type { HeaderEdits } from './header-edits.ts'
import { buildResponseHeaders } from './response-headers.ts'

/** Everything one proxied exchange needs; prepared by the request handler. */
export interface ForwardPlan {
  req: IncomingMessage
  res: ServerResponse
  upstream: Upstream
  method: Dispatcher.HttpMethod
  path: string
  headers: string[]
  /** The request body: a stream (not retryable), a buffer, or null. */
  body: Readable | Buffer | null
  /** True when a connect failure may be retried on another backend. */
  retryable: boolean
  balance: BalanceRequest
  responseEdits: HeaderEdits
  via: string | undefined
  /** Called once when the exchange ends, with the error code if the gateway answered an error. */
  onEnd(outcome: ForwardOutcome): void
  /** Request id for the gateway's own error answers (request_id plugin). */
  requestId?: string | undefined
  /** The client speaks gRPC: an upstream trailers-only answer is relayed as one (see onHeaders). */
  grpc?: boolean
  /** The plugins' response phase on the upstream's response head; false when a plugin failed (500). */
  onResponse?: ((head: ResponseHead) => boolean) | undefined
}

/** How an exchange ended, for logs and metrics. */
export interface ForwardOutcome {
  status: number
  backend: string | undefined
  attempts: number
  error: ErrorCode | undefined
  cause: unknown
  /** performance.now() of the last attempt: dispatched, given a connection, response head received. */
  sentAt?: number
  connectedAt?: number
  headersAt?: number
  /** Status the upstream answered, and response body bytes relayed to the client. */
  upstreamStatus?: number
  bodyBytes?: number
  /** The response head sent to the client (flat [name, value, ...]), for access logs. */
  responseHeaders?: string[]
}

const IDEMPOTENT = new Set<string>(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'])

/** A client that went away; aborting the upstream with it must not count against the backend. */
class ClientGone extends Error {}

/**
 * One client request proxied to an upstream through undici's dispatch API. The (deprecated
 * in typings, native in undici 7) raw handler is used on purpose: it hands over raw header
 * buffers with no parsing, and returning false from onData is undici's backpressure.
 */
class Exchange implements Dispatcher.DispatchHandler {
  readonly #plan: ForwardPlan
  readonly #tried = new Set<Backend>()
  #backend: Backend | undefined
  #abort: ((err?: Error) => void) | undefined
  #resume: (() => void) | undefined
  #waitingDrain = false
  #clientGone = false
  #done = false
  #sentAt: number | undefined
  #connectedAt: number | undefined
  #headersAt: number | undefined
  #upstreamStatus: number | undefined
  #bodyBytes = 0
  #responseHeaders: string[] | undefined
  #trailersOnly: ResponseHead | undefined

  constructor(plan: ForwardPlan) {
    this.#plan = plan
    plan.res.once('close', () => {
      // Not writableFinished: HTTP/2 compat responses report finished even when the client reset the stream.
      if (this.#done) return
      this.#clientGone = true
      this.#abort?.(new ClientGone('client closed the connection'))
    })
  }

  start(): void {
    const plan = this.#plan
    const backend = plan.upstream.pick(plan.balance, this.#tried)
    if (backend === undefined) {
      this.#fail(this.#tried.size === 0 ? 'NO_HEALTHY_BACKEND' : 'UPSTREAM_CONNECT', undefined)
      return
    }
    this.#backend = backend
    this.#tried.add(backend)
    backend.onRequestStart()
    this.#sentAt = performance.now()
    backend.dispatcher.dispatch(
      {
        path: plan.path,
        method: plan.method,
        headers: plan.headers,
        body: plan.body,
        headersTimeout: plan.upstream.readTimeoutMs,
        bodyTimeout: plan.upstream.readTimeoutMs,
      },
      this,
    )
  }

  onConnect(abort: (err?: Error) => void): void {
    this.#abort = abort
    this.#connectedAt = performance.now()
    if (this.#clientGone) abort(new ClientGone('client closed the connection'))
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true
    this.#headersAt = performance.now()
    this.#upstreamStatus = statusCode
    const { res, responseEdits, via } = this.#plan
    this.#resume = resume
    const head: ResponseHead = { status: statusCode, headers: buildResponseHeaders(rawHeaders, responseEdits, via) }
    if (this.#plan.onResponse !== undefined && !this.#plan.onResponse(head)) {
      this.#abort?.(new GatewayError('INTERNAL', 'a plugin failed on the response'))
      return false
    }
    this.#responseHeaders = head.headers
    // A gRPC error comes as a trailers-only response: grpc-status in a HEADERS frame that ends
    // the stream. Written now, the head would go out alone and the status would be lost, so it
    // waits for the end of the (empty) body.
    if (this.#plan.grpc === true && hasHeader(head.headers, 'grpc-status')) this.#trailersOnly = head
    else res.writeHead(head.status, head.headers)
    return true
  }

  onData(chunk: Buffer): boolean {
    if (this.#trailersOnly !== undefined) {
      this.#plan.res.writeHead(this.#trailersOnly.status, this.#trailersOnly.headers)
      this.#trailersOnly = undefined
    }
    this.#bodyBytes += chunk.length
    const ok = this.#plan.res.write(chunk)
    if (!ok && !this.#waitingDrain) {
      this.#waitingDrain = true
      this.#plan.res.once('drain', this.#onDrain)
    }
    return ok
  }

  readonly #onDrain = () => {
    this.#waitingDrain = false
    this.#resume?.()
  }

  // Typed string[] by undici; at run time raw Buffers (HTTP/1.1) or an object (HTTP/2).
  onComplete(trailers: string[] | null): void {
    this.#backend?.onRequestEnd(false)
    const { res } = this.#plan
    if (this.#trailersOnly !== undefined) writeHeadAndEnd(res, this.#trailersOnly)
    if (trailers != null) addTrailers(res, trailers as unknown as Buffer[] | Record<string, string | string[]>)
    res.end()
    this.#finish(undefined, undefined)
  }

  onError(err: Error): void {
    const { res } = this.#plan
    if (err instanceof ClientGone || this.#clientGone) {
      this.#backend?.onRequestEnd(false)
      this.#finish(undefined, err)
      return
    }
    if (err instanceof GatewayError) {
      this.#backend?.onRequestEnd(false)
      this.#fail(err.code, err)
      return
    }
    const code = upstreamErrorCode(err)
    this.#backend?.onRequestEnd(true)
    if (!res.headersSent && this.#isRetryable(code) && this.#canRetry()) {
      this.start()
      return
    }
    this.#fail(code, err)
  }

  /**
   * A connect failure never reached the upstream, so any method may go elsewhere. A reset before
   * any response is typically a pooled keep-alive connection the backend had just closed: the
   * request may or may not have been processed, so only idempotent methods are retried then.
   */
  #isRetryable(code: ErrorCode): boolean {
    return isConnectFailure(code) || (code === 'UPSTREAM_RESET' && IDEMPOTENT.has(this.#plan.method))
  }

  #canRetry(): boolean {
    const { retryable, upstream } = this.#plan
    return retryable && this.#tried.size <= upstream.config.max_retries && this.#tried.size < upstream.backends.length
  }

  #fail(code: ErrorCode, cause: unknown): void {
    const { req, res } = this.#plan
    if (res.headersSent) res.destroy(cause instanceof Error ? cause : undefined)
    else sendError(req, res, code, this.#plan.requestId)
    this.#finish(code, cause)
  }

  #finish(error: ErrorCode | undefined, cause: unknown): void {
    if (this.#done) return
    this.#done = true
    this.#plan.onEnd({
      status: this.#plan.res.statusCode,
      backend: this.#backend?.id,
      attempts: this.#tried.size,
      error,
      cause,
      sentAt: this.#sentAt,
      connectedAt: this.#connectedAt,
      headersAt: this.#headersAt,
      upstreamStatus: this.#upstreamStatus,
      bodyBytes: this.#headersAt === undefined ? undefined : this.#bodyBytes,
      responseHeaders: this.#responseHeaders,
    })
  }
}

function hasHeader(flat: readonly string[], lowerName: string): boolean {
  for (let i = 0; i < flat.length; i += 2) if ((flat[i] as string).toLowerCase() === lowerName) return true
  return false
}

/** Sets a head without sending it, so that end() sends head and end of stream together (HTTP/2 trailers-only). */
function writeHeadAndEnd(res: ServerResponse, head: ResponseHead): void {
  res.statusCode = head.status
  for (let i = 0; i < head.headers.length; i += 2) {
    const name = head.headers[i] as string
    const value = head.headers[i + 1] as string
    const existing = res.getHeader(name)
    res.setHeader(name, existing === undefined ? value : [...(Array.isArray(existing) ? existing : [String(existing)]), value])
  }
}

/**
 * Relays the upstream's trailers (gRPC's grpc-status and grpc-message arrive there): as HTTP/2
 * trailers, or as chunked trailers to an HTTP/1.1 client. undici hands them over raw (HTTP/1.1)
 * or as an object (HTTP/2).
 */
function addTrailers(res: ServerResponse, trailers: Buffer[] | Record<string, string | string[]>): void {
  const out: Record<string, string | string[]> = {}
  let any = false
  if (Array.isArray(trailers)) {
    for (let i = 0; i < trailers.length; i += 2) {
      out[(trailers[i] as Buffer).toString('latin1').toLowerCase()] = (trailers[i + 1] as Buffer).toString('latin1')
      any = true
    }
  } else {
    for (const name of Object.keys(trailers)) {
      out[name] = trailers[name] as string | string[]
      any = true
    }
  }
  if (!any) return
  try {
    res.addTrailers(out)
  } catch {
    // A trailer Node refuses (invalid characters) is dropped, not fatal to the response.
  }
}

/** Proxies the request described by `plan`, retrying connect failures on other backends when allowed. */
export function forward(plan: ForwardPlan): void {
  new Exchange(plan).start()
}

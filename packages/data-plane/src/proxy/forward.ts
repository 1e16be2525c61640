import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'
import type { Dispatcher } from 'undici'
import { sendError } from '../error-response.ts'
import { ERROR_CODES, type ErrorCode, GatewayError, isBackendFailure, isConnectFailure, upstreamErrorCode } from '../errors.ts'
import { type RequestTrace, traceOf } from '../observability/tracing/request-trace.ts'
import type { BodyPipeline, RequestVars, ResponseHead } from '../plugins/types.ts'
import { awaitConnection, type ConnectContext, type ReuseListener } from '../upstream/connection-reuse.ts'
import type { BalanceRequest, Upstream } from '../upstream/types.ts'
import { BackendAttempts } from './backend-attempts.ts'
import { relayBody } from './body-relay.ts'
import type { GrpcWebTranslation, UpstreamTrailers } from './grpc-web.ts'
import type { HeaderEdits } from './header-edits.ts'
import { isHeaderName } from './header-name.ts'
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
  /** The plugins' phases on the answer; unset when the location has no plugins. */
  hooks?: ForwardHooks | undefined
  /** Set for a gRPC-web request on a `grpc_web` location: the response is translated back (grpc-web.ts). */
  grpcWeb?: GrpcWebTranslation | undefined
  /** performance.now() of the request's start when the location has `server_timing`: a Server-Timing header is added. */
  serverTiming?: number | undefined
}

/** What the plugins do to an exchange's answer (run-chain.ts's ChainHooks: one object per request). */
export interface ForwardHooks {
  /** The response_body phase, before the response phase: transforms for the body, or false when a plugin failed (500). */
  responseBody(head: ResponseHead): BodyPipeline | undefined | false
  /** The response phase on the response head; false when a plugin failed (500). */
  response(head: ResponseHead): boolean
  /**
   * Writes the gateway's own error answer through the plugins' response hooks (instead of
   * sendError); `done` once it is written, with the body bytes sent.
   */
  writeError(code: ErrorCode, done: (bodyBytes: number | undefined) => void): void
}

/** How an exchange ended, for logs and metrics. */
export interface ForwardOutcome {
  status: number
  /** The plugins' per-request variables (consumer, cache_status, rate_limit, ...), when the location has plugins. */
  vars?: RequestVars
  backend: string | undefined
  attempts: number
  error: ErrorCode | undefined
  cause: unknown
  /** performance.now() of the last attempt: dispatched, given a connection, response head received. */
  sentAt?: number
  connectedAt?: number
  headersAt?: number
  /** Whether the last attempt's connection had carried requests before; unknown unless a log format asks (connection-reuse.ts). */
  reused?: boolean | undefined
  /** Status the upstream answered, and response body bytes sent to the client (after response_body transforms). */
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
class Exchange implements Dispatcher.DispatchHandler, ReuseListener {
  readonly #plan: ForwardPlan
  readonly #attempts: BackendAttempts
  #abort: ((err?: Error) => void) | undefined
  #resume: (() => void) | undefined
  #waitingDrain = false
  #clientGone = false
  #done = false
  #sentAt: number | undefined
  #connectedAt: number | undefined
  #headersAt: number | undefined
  #reused: boolean | undefined
  #upstreamStatus: number | undefined
  #bodyBytes = 0
  /** Body bytes of the gateway's own error answer, when written through the plugins. */
  #errorBytes: number | undefined
  #responseHeaders: string[] | undefined
  #trailersOnly: ResponseHead | undefined
  /** The response_body transforms, when a plugin returned any; the upstream's trailers wait for their end. */
  #body: BodyPipeline | undefined
  #trailers: string[] | null = null
  /** Set only when tracing is on: a client span per attempt. */
  readonly #trace: RequestTrace | undefined

  constructor(plan: ForwardPlan) {
    this.#plan = plan
    this.#attempts = new BackendAttempts(plan.upstream, plan.balance)
    this.#trace = traceOf(plan.req)
    plan.res.once('close', () => {
      // Not writableFinished: HTTP/2 compat responses report finished even when the client reset the stream.
      if (this.#done) return
      this.#clientGone = true
      this.#abort?.(new ClientGone('client closed the connection'))
    })
  }

  start(): void {
    const plan = this.#plan
    const backend = this.#attempts.start()
    if (backend === undefined) {
      this.#fail(this.#attempts.noBackendCode(), undefined)
      return
    }
    this.#sentAt = performance.now()
    this.#reused = undefined
    backend.dispatcher.dispatch(
      {
        path: plan.path,
        method: plan.method,
        headers:
          this.#trace === undefined
            ? plan.headers
            : this.#trace.attemptStart(plan.headers, backend, plan.upstream.name, this.#attempts.count),
        body: plan.body,
        headersTimeout: plan.upstream.readTimeoutMs,
        bodyTimeout: plan.upstream.readTimeoutMs,
      },
      this,
    )
  }

  onConnect(abort: (err?: Error) => void, context?: ConnectContext): void {
    this.#abort = abort
    this.#connectedAt = performance.now()
    if (this.#clientGone) abort(new ClientGone('client closed the connection'))
    else awaitConnection(this, context)
  }

  onConnectionKnown(reused: boolean): void {
    this.#reused = reused
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true
    this.#headersAt = performance.now()
    this.#upstreamStatus = statusCode
    const { res, responseEdits, via } = this.#plan
    this.#resume = resume
    const head: ResponseHead = { status: statusCode, headers: buildResponseHeaders(rawHeaders, responseEdits, via) }
    this.#plan.grpcWeb?.responseHead(head.headers)
    const hooks = this.#plan.hooks
    // gRPC bodies are framed (and translated for gRPC-web): never transformed.
    if (hooks !== undefined && this.#plan.grpc !== true && this.#plan.grpcWeb === undefined) {
      const body = hooks.responseBody(head)
      if (body === false) {
        this.#abort?.(new GatewayError('INTERNAL', 'a plugin failed on the response body'))
        return false
      }
      this.#body = body
    }
    if (hooks !== undefined && !hooks.response(head)) {
      this.#body?.input.destroy()
      this.#abort?.(new GatewayError('INTERNAL', 'a plugin failed on the response'))
      return false
    }
    if (this.#plan.serverTiming !== undefined) head.headers.push('server-timing', this.#serverTiming(this.#plan.serverTiming))
    this.#responseHeaders = head.headers
    // A gRPC error comes as a trailers-only response: grpc-status in a HEADERS frame that ends
    // the stream. Written now, the head would go out alone and the status would be lost, so it
    // waits for the end of the (empty) body.
    if (this.#plan.grpc === true && hasHeader(head.headers, 'grpc-status')) this.#trailersOnly = head
    else {
      res.writeHead(head.status, head.headers)
      // Node holds a head back until the first body chunk; a streamed body (SSE, a chunked long
      // poll) may not follow for minutes, so without a length the head goes out now.
      if (!hasHeader(head.headers, 'content-length')) res.flushHeaders()
    }
    if (this.#body !== undefined) {
      // Bytes are counted as they leave the transforms (compressed), not as they arrive.
      this.#body.output.on('data', (chunk: Buffer) => {
        this.#bodyBytes += chunk.length
      })
      relayBody(this.#body, res, (err) => this.#bodyDone(err))
    }
    return true
  }

  onData(data: Buffer): boolean {
    const chunk = this.#plan.grpcWeb === undefined ? data : this.#plan.grpcWeb.responseData(data)
    if (this.#trailersOnly !== undefined) {
      this.#plan.res.writeHead(this.#trailersOnly.status, this.#trailersOnly.headers)
      this.#trailersOnly = undefined
    }
    if (this.#body === undefined) this.#bodyBytes += chunk.length
    const sink = this.#body?.input ?? this.#plan.res
    const ok = sink.write(chunk)
    if (!ok && !this.#waitingDrain) {
      this.#waitingDrain = true
      sink.once('drain', this.#onDrain)
    }
    return ok
  }

  readonly #onDrain = () => {
    this.#waitingDrain = false
    this.#resume?.()
  }

  // Typed string[] by undici; at run time raw Buffers (HTTP/1.1) or an object (HTTP/2).
  onComplete(trailers: string[] | null): void {
    this.#attempts.end(false)
    if (this.#body !== undefined) {
      // The transformed body ends first (relayBody then calls #bodyDone), then the trailers go.
      this.#trailers = trailers
      this.#body.input.end()
      return
    }
    this.#complete(trailers)
  }

  /** A response_body pipeline ended (all of it written) or failed (transform error, client gone). */
  #bodyDone(err: Error | undefined): void {
    if (err === undefined) this.#complete(this.#trailers)
    else if (this.#clientGone || this.#done) this.#finish(undefined, err)
    else {
      // The head is out: the response is cut and the upstream let go.
      this.#abort?.(new GatewayError('INTERNAL', 'a response body transform failed', { cause: err }))
      this.#plan.res.destroy(err)
      this.#finish('INTERNAL', err)
    }
  }

  #complete(trailers: string[] | null): void {
    const { res } = this.#plan
    if (this.#trailersOnly !== undefined) writeHeadAndEnd(res, this.#trailersOnly)
    if (this.#plan.grpcWeb !== undefined) res.write(this.#plan.grpcWeb.responseEnd(trailers as unknown as UpstreamTrailers))
    else if (trailers != null) addTrailers(res, trailers as unknown as Buffer[] | Record<string, string | string[]>)
    res.end()
    this.#finish(undefined, undefined)
  }

  onError(err: Error): void {
    const { res } = this.#plan
    if (err instanceof ClientGone || this.#clientGone) {
      this.#attempts.end(false)
      this.#finish(undefined, err)
      return
    }
    // The gateway's own errors, among them the client's body stream failing (malformed partway:
    // the listener fails it with BAD_REQUEST; over the size limit; a bad gRPC-web body), which
    // undici reports as the request's error: never the backend's fault, never retried elsewhere.
    // Only GatewayError tells: a body stream also fails with the upstream's error (pipeline).
    if (err instanceof GatewayError) {
      this.#attempts.end(false)
      this.#fail(err.code, err)
      return
    }
    const code = upstreamErrorCode(err)
    if (!isBackendFailure(code)) {
      // undici refused to build the request: no backend saw it, and every one would refuse it alike.
      this.#attempts.end(false)
      this.#fail(code, err)
      return
    }
    this.#attempts.end(true)
    if (!res.headersSent && this.#plan.retryable && this.#isRetryable(code) && this.#attempts.mayRetry()) {
      this.#trace?.attemptEnd(code, undefined)
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

  /** `upstream;dur=` time to the upstream's response head, `total;dur=` since the request started, in ms. */
  #serverTiming(requestStart: number): string {
    const at = this.#headersAt as number
    return `upstream;dur=${(at - (this.#sentAt ?? at)).toFixed(1)}, total;dur=${(at - requestStart).toFixed(1)}`
  }

  #fail(code: ErrorCode, cause: unknown): void {
    const { req, res } = this.#plan
    // A gRPC-web body cut between two messages can still end with a proper status frame.
    const webEnd = res.headersSent
      ? this.#plan.grpcWeb?.responseError(ERROR_CODES[code].grpc, `${ERROR_CODES[code].message} (${code})`)
      : undefined
    if (webEnd !== undefined) res.end(webEnd)
    else if (res.headersSent) res.destroy(cause instanceof Error ? cause : undefined)
    // INTERNAL means a plugin hook failed: its answer does not go through the hooks again.
    else if (this.#plan.hooks !== undefined && code !== 'INTERNAL') {
      this.#plan.hooks.writeError(code, (bodyBytes) => {
        this.#errorBytes = bodyBytes
        this.#finish(code, cause)
      })
      return
    } else this.#errorBytes = sendError(req, res, code, this.#plan.requestId)
    this.#finish(code, cause)
  }

  #finish(error: ErrorCode | undefined, cause: unknown): void {
    if (this.#done) return
    this.#done = true
    const res = this.#plan.res
    let status = res.statusCode
    if (this.#clientGone && error === undefined) {
      // nginx's 499 when no head went out (statusCode is still its default 200); a response cut
      // after its head keeps that head's status. Either way it did not succeed.
      error = 'CLIENT_CLOSED'
      if (!res.headersSent) status = ERROR_CODES.CLIENT_CLOSED.status
    }
    this.#trace?.attemptEnd(error, this.#upstreamStatus)
    this.#plan.onEnd({
      status,
      backend: this.#attempts.current?.id,
      attempts: this.#attempts.count,
      error,
      cause,
      sentAt: this.#sentAt,
      connectedAt: this.#connectedAt,
      headersAt: this.#headersAt,
      reused: this.#reused,
      upstreamStatus: this.#upstreamStatus,
      bodyBytes: this.#headersAt === undefined ? this.#errorBytes : this.#bodyBytes,
      responseHeaders: this.#responseHeaders,
    })
  }
}

function hasHeader(flat: readonly string[], lowerName: string): boolean {
  for (let i = 0; i < flat.length; i += 2) if (isHeaderName(flat[i] as string, lowerName)) return true
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

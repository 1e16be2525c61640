import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Http2ServerResponse } from 'node:http2'
import type { Duplex } from 'node:stream'
import type { Dispatcher } from 'undici'
import { sendError } from '../error-response.ts'
import { type ErrorCode, GatewayError, isBackendFailure, isConnectFailure, upstreamErrorCode } from '../errors.ts'
import type { ResponseHead } from '../plugins/types.ts'
import { awaitConnection, type ConnectContext, type ReuseListener } from '../upstream/connection-reuse.ts'
import type { BalanceRequest, Upstream } from '../upstream/types.ts'
import { BackendAttempts } from './backend-attempts.ts'
import type { ForwardHooks, ForwardOutcome } from './forward.ts'
import type { HeaderEdits } from './header-edits.ts'
import { buildResponseHeaders } from './response-headers.ts'
import { openTunnel, type TunnelSide } from './tunnel.ts'
import { UpgradeResponse } from './upgrade-response.ts'
import { websocketAccept } from './websocket-handshake.ts'

/** Everything one proxied WebSocket needs; prepared by the request handler after routing and plugins. */
export interface WebSocketPlan {
  req: IncomingMessage
  /** An UpgradeResponse (HTTP/1.1 client) or the HTTP/2 stream's response (RFC 8441 client). */
  res: ServerResponse
  upstream: Upstream
  path: string
  /** Upstream request headers (hop-by-hop ones already removed; undici adds Connection and Upgrade). */
  headers: string[]
  balance: BalanceRequest
  responseEdits: HeaderEdits
  via: string | undefined
  /** Closes a tunnel with no traffic either way for this long; 0 never does. */
  idleTimeoutMs: number
  /** Called once when the handshake is refused or the tunnel ends. */
  onEnd(outcome: ForwardOutcome): void
  requestId?: string | undefined
  /** The plugins' response phase (the other phases do not apply to a tunnel); unset without plugins. */
  hooks?: Pick<ForwardHooks, 'response'> | undefined
}

const PLUGIN_FAILED = 'a plugin failed on the response'

/** A client that went away during the handshake. */
class ClientGone extends Error {}

/**
 * One WebSocket handshake with an upstream through undici's upgrade dispatch, then a byte
 * tunnel. An HTTP/1.1 backend answers 101 (its Sec-WebSocket-Accept is checked against the
 * key sent); an HTTP/2 backend that offers RFC 8441 answers 200 on an extended CONNECT, which
 * undici opens by itself. Whichever the two sides speak, the client gets its own protocol's
 * success answer: 101 with Connection/Upgrade/Accept, or 200 on its HTTP/2 stream.
 */
class WebSocketExchange implements Dispatcher.DispatchHandler, ReuseListener {
  readonly #plan: WebSocketPlan
  readonly #attempts: BackendAttempts
  /** The key of the upstream handshake: the client's (HTTP/1.1), or a fresh one for an HTTP/2 client. */
  readonly #key: string | undefined
  readonly #h1Client: UpgradeResponse | undefined
  #abort: ((err?: Error) => void) | undefined
  #resume: (() => void) | undefined
  #waitingDrain = false
  #clientGone = false
  #tunnelled = false
  #done = false
  #sentAt: number | undefined
  #connectedAt: number | undefined
  #reused: boolean | undefined
  #headersAt: number | undefined
  #upstreamStatus: number | undefined
  #bodyBytes = 0
  #responseHeaders: string[] | undefined

  constructor(plan: WebSocketPlan) {
    this.#plan = plan
    this.#attempts = new BackendAttempts(plan.upstream, plan.balance)
    this.#h1Client = plan.res instanceof UpgradeResponse ? plan.res : undefined
    if (this.#h1Client !== undefined) this.#key = plan.req.headers['sec-websocket-key'] as string | undefined
    else {
      // RFC 8441 has no key; the HTTP/1.1 upstream needs one, and its answer is checked against it.
      this.#key = randomBytes(16).toString('base64')
      takeHeader(plan.headers, 'sec-websocket-key')
      plan.headers.push('sec-websocket-key', this.#key)
    }
    plan.res.once('close', () => {
      if (this.#done || this.#tunnelled || plan.res.writableFinished) return
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
        method: 'GET',
        headers: plan.headers,
        body: null,
        upgrade: 'websocket',
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

  onUpgrade(statusCode: number, rawHeaders: Buffer[] | string[] | null, socket: Duplex): void {
    this.#headersAt = performance.now()
    this.#upstreamStatus = statusCode
    const raw = (rawHeaders ?? []) as Buffer[]
    if (this.#clientGone) {
      socket.destroy()
      this.#attempts.end(false)
      this.#finish(undefined, undefined)
    } else if (statusCode === 101 || statusCode === 200) this.#accept(statusCode, raw, socket)
    else this.#relayRefusal(statusCode, raw, socket)
  }

  /** The upstream accepted: answer the client in its own protocol, then tunnel. */
  #accept(statusCode: number, raw: Buffer[], socket: Duplex): void {
    const { req, res, responseEdits, via } = this.#plan
    const headers = buildResponseHeaders(raw, responseEdits, via)
    const accept = takeHeader(headers, 'sec-websocket-accept')
    if (statusCode === 101 && (this.#key === undefined || accept !== websocketAccept(this.#key))) {
      socket.destroy()
      this.#attempts.end(true)
      this.#fail('UPSTREAM_PROTOCOL', new Error('the upstream answered 101 with a wrong Sec-WebSocket-Accept'))
      return
    }
    const client = this.#h1Client
    if (client !== undefined) {
      headers.push('connection', 'Upgrade', 'upgrade', 'websocket')
      if (this.#key !== undefined) headers.push('sec-websocket-accept', websocketAccept(this.#key))
    }
    const head: ResponseHead = { status: client === undefined ? 200 : 101, headers }
    try {
      if (this.#plan.hooks?.response(head) === false) throw new GatewayError('INTERNAL', PLUGIN_FAILED)
      res.writeHead(client === undefined ? 200 : 101, head.headers)
      res.flushHeaders()
    } catch (err) {
      socket.destroy()
      this.#attempts.end(false)
      this.#fail('INTERNAL', err)
      return
    }
    this.#responseHeaders = head.headers
    this.#tunnelled = true
    const stream = (res as unknown as Http2ServerResponse).stream
    const clientSide: TunnelSide =
      client === undefined
        ? { input: req, output: stream, stream }
        : { input: client.clientSocket, output: client.clientSocket, stream: client.clientSocket }
    if (client !== undefined && client.head.length > 0) socket.write(client.head)
    openTunnel(clientSide, { input: socket, output: socket, stream: socket }, this.#plan.idleTimeoutMs, (end) => {
      this.#attempts.end(false)
      this.#bodyBytes = end.toClient
      this.#finish(undefined, end.error)
    })
  }

  /** An HTTP/2 upstream refused the extended CONNECT: its status, headers and body go to the client. */
  #relayRefusal(statusCode: number, raw: Buffer[], stream: Duplex): void {
    if (!this.#respond(statusCode, raw)) {
      stream.destroy()
      this.#attempts.end(false)
      this.#fail('INTERNAL', new GatewayError('INTERNAL', PLUGIN_FAILED))
      return
    }
    const { res } = this.#plan
    stream.on('data', (chunk: Buffer) => {
      this.#bodyBytes += chunk.length
    })
    stream.on('error', () => {})
    res.once('close', () => stream.destroy())
    stream.pipe(res)
    stream.once('close', () => {
      this.#attempts.end(false)
      if (!res.writableEnded) res.destroy()
      this.#finish(undefined, undefined)
    })
  }

  /** An HTTP/1.1 upstream answered something other than 101: relayed as a normal response. */
  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true
    this.#headersAt = performance.now()
    this.#upstreamStatus = statusCode
    this.#resume = resume
    if (this.#respond(statusCode, rawHeaders)) return true
    this.#abort?.(new GatewayError('INTERNAL', PLUGIN_FAILED))
    return false
  }

  onData(chunk: Buffer): boolean {
    this.#bodyBytes += chunk.length
    const ok = this.#plan.res.write(chunk)
    if (!ok && !this.#waitingDrain) {
      this.#waitingDrain = true
      this.#plan.res.once('drain', () => {
        this.#waitingDrain = false
        this.#resume?.()
      })
    }
    return ok
  }

  onComplete(): void {
    this.#attempts.end(false)
    this.#plan.res.end()
    this.#finish(undefined, undefined)
  }

  onError(err: Error): void {
    const { res } = this.#plan
    if (err instanceof ClientGone || this.#clientGone) {
      this.#attempts.end(false)
      this.#finish(undefined, err)
      return
    }
    if (err instanceof GatewayError) {
      this.#attempts.end(false)
      this.#fail(err.code, err)
      return
    }
    const code = upstreamErrorCode(err)
    // A request undici refused to build never reached the backend: it says nothing of its health.
    this.#attempts.end(isBackendFailure(code))
    if (!res.headersSent && isConnectFailure(code) && this.#attempts.mayRetry()) {
      this.start()
      return
    }
    this.#fail(code, err)
  }

  /** Writes a refusal's head through the plugins' response phase; false when a plugin failed (nothing written). */
  #respond(statusCode: number, raw: Buffer[]): boolean {
    const { res, responseEdits, via } = this.#plan
    const head: ResponseHead = { status: statusCode, headers: buildResponseHeaders(raw, responseEdits, via) }
    if (this.#plan.hooks?.response(head) === false) return false
    this.#responseHeaders = head.headers
    res.writeHead(head.status, head.headers)
    return true
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
      backend: this.#attempts.current?.id,
      attempts: this.#attempts.count,
      error,
      cause,
      sentAt: this.#sentAt,
      connectedAt: this.#connectedAt,
      reused: this.#reused,
      headersAt: this.#headersAt,
      upstreamStatus: this.#upstreamStatus,
      bodyBytes: this.#headersAt === undefined ? undefined : this.#bodyBytes,
      responseHeaders: this.#responseHeaders,
    })
  }
}

/** Removes every `name` (lower-case) from a flat header list; returns the last value seen. */
function takeHeader(flat: string[], name: string): string | undefined {
  let value: string | undefined
  let w = 0
  for (let r = 0; r < flat.length; r += 2) {
    if ((flat[r] as string).toLowerCase() === name) {
      value = flat[r + 1]
      continue
    }
    flat[w++] = flat[r] as string
    flat[w++] = flat[r + 1] as string
  }
  flat.length = w
  return value
}

/**
 * Proxies a routed WebSocket handshake to `plan.upstream` (connect failures retried on another
 * backend), then relays frames as bytes both ways until either side closes or the tunnel idles.
 */
export function proxyWebSocket(plan: WebSocketPlan): void {
  new WebSocketExchange(plan).start()
}

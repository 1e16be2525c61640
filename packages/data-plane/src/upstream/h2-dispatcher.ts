import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect as connectH2,
  constants as h2,
  type IncomingHttpHeaders,
  type IncomingHttpStatusHeader,
  type OutgoingHttpHeaders,
} from 'node:http2'
import { connect as connectTcp } from 'node:net'
import type { Readable } from 'node:stream'
import { type ConnectionOptions, connect as connectTls } from 'node:tls'
import { Dispatcher } from 'undici'
import type { ConnectContext } from './connection-reuse.ts'

/** How an {@link H2Dispatcher} reaches one backend. */
export interface H2DispatcherOptions {
  /** "http://host:port" (h2c, prior knowledge) or "https://host:port" (TLS with ALPN h2 only). */
  origin: string
  connectTimeoutMs: number
  /** A session with no stream for this long is closed. */
  idleTimeoutMs: number
  /** Most sessions (connections) to the backend. */
  maxSessions: number
  /** TLS options for https origins (servername, ca, cert, key, rejectUnauthorized). */
  tls?: ConnectionOptions
  /** WebSocket upgrades (HTTP/1.1 only) go here. */
  upgrades: Dispatcher
}

/** An error with an undici-style code, so the proxy maps it like undici's own (errors.ts). */
class UpstreamH2Error extends Error {
  readonly code: string
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
  }
}

/** The handler callbacks the proxy implements (undici's raw handler API). */
interface RawHandler {
  onConnect?(abort: (err?: Error) => void, context: ConnectContext): void
  onHeaders?(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean
  onData?(chunk: Buffer): boolean
  onComplete?(trailers: unknown): void
  onError?(err: Error): void
}

interface PooledSession {
  session: ClientHttp2Session
  active: number
  /** Streams started on the session so far: the first one has a fresh connection, the others reuse it. */
  started: number
  connected: boolean
  /** ":scheme" and the default ":authority" of its requests, computed once. */
  scheme: 'http' | 'https'
  authority: string
  /** Why the session failed before it connected (refused, timed out): its streams fail with it. */
  failure: Error | undefined
}

const REUSED: ConnectContext = Object.freeze({ reused: true })
const FRESH: ConnectContext = Object.freeze({ reused: false })

/**
 * Streams on the least busy session before another session is opened (while under maxSessions),
 * unless the server allows fewer. One session per backend, as gRPC clients do: every call's
 * frames then share the session's writes and the backend's reads (with 16, 100 calls in flight
 * spread over 7 sessions and cost the gateway 3x the syscalls and ~20 % more CPU a call).
 */
const STREAMS_BEFORE_NEW_SESSION = 100

const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host'])

/**
 * Upstream HTTP/2 (`alpn = "h2"`) over node:http2 sessions, multiplexing every request kind.
 * undici's HTTP/2 client runs a request whose body is a stream (every gRPC call) alone on its
 * connection, which serialises gRPC per connection; this dispatcher puts up to the server's
 * SETTINGS_MAX_CONCURRENT_STREAMS streams, bodies streaming both ways, on each session and
 * opens up to `maxSessions`. It speaks undici's dispatcher interface, so the proxy's exchange
 * (forward.ts) drives it exactly like a Pool.
 */
export class H2Dispatcher extends Dispatcher {
  readonly #options: H2DispatcherOptions
  readonly #sessions: PooledSession[] = []
  #closed = false

  constructor(options: H2DispatcherOptions) {
    super()
    this.#options = options
  }

  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    if (opts.upgrade !== undefined && opts.upgrade !== null) return this.#options.upgrades.dispatch(opts, handler)
    const raw = handler as RawHandler
    if (this.#closed) {
      queueMicrotask(() => raw.onError?.(new UpstreamH2Error('UND_ERR_DESTROYED', 'the upstream is closed')))
      return false
    }
    new H2Exchange(this.#pick(), opts, raw).start()
    return true
  }

  /**
   * The least busy live session; a new session when there is none, or when the least busy one
   * already carries STREAMS_BEFORE_NEW_SESSION streams (or the server's stream limit) and fewer
   * than maxSessions are open. Past every limit nghttp2 queues the stream until one closes.
   */
  #pick(): PooledSession {
    let best: PooledSession | undefined
    for (const s of this.#sessions) {
      if (s.session.closed || s.session.destroyed || s.failure !== undefined) continue
      if (best === undefined || s.active < best.active) best = s
    }
    if (best === undefined) return this.#open()
    const limit = Math.min(STREAMS_BEFORE_NEW_SESSION, best.session.remoteSettings.maxConcurrentStreams ?? 100)
    if (best.active >= limit && this.#sessions.length < this.#options.maxSessions) return this.#open()
    return best
  }

  #open(): PooledSession {
    const { origin, connectTimeoutMs, idleTimeoutMs, tls } = this.#options
    const secure = origin.startsWith('https:')
    const url = new URL(origin)
    const host = url.hostname.replace(/^\[|\]$/g, '')
    const port = Number(url.port)
    // Small frames (a gRPC call is a few of them) must not wait for Nagle's algorithm.
    const session = connectH2(origin, {
      createConnection: () => {
        const socket = secure ? connectTls({ host, port, ALPNProtocols: ['h2'], ...tls }) : connectTcp({ host, port })
        socket.setNoDelay(true)
        return socket
      },
      settings: { enablePush: false },
    })
    const pooled: PooledSession = {
      session,
      active: 0,
      started: 0,
      connected: false,
      scheme: secure ? 'https' : 'http',
      authority: url.host,
      failure: undefined,
    }
    this.#sessions.push(pooled)
    const timer = setTimeout(() => {
      pooled.failure = new UpstreamH2Error('UND_ERR_CONNECT_TIMEOUT', `connecting to ${origin} timed out`)
      session.destroy(pooled.failure)
    }, connectTimeoutMs)
    session.once('connect', () => {
      clearTimeout(timer)
      pooled.connected = true
    })
    session.setTimeout(idleTimeoutMs, () => {
      if (pooled.active === 0) session.close()
    })
    const forget = () => {
      clearTimeout(timer)
      const i = this.#sessions.indexOf(pooled)
      if (i >= 0) this.#sessions.splice(i, 1)
    }
    session.once('close', forget)
    session.once('goaway', forget)
    session.on('error', (err: Error) => {
      if (!pooled.connected) pooled.failure ??= err
      forget()
    })
    return pooled
  }

  override close(): Promise<void>
  override close(callback: () => void): void
  override close(callback?: () => void): Promise<void> | void {
    this.#closed = true
    const done = Promise.all([
      ...this.#sessions.map((s) => new Promise<void>((resolve) => (s.session.closed ? resolve() : s.session.close(() => resolve())))),
      this.#options.upgrades.close(),
    ]).then(() => {})
    if (callback === undefined) return done
    void done.then(callback)
  }

  override destroy(): Promise<void>
  override destroy(err: Error | null): Promise<void>
  override destroy(callback: () => void): void
  override destroy(err: Error | null, callback: () => void): void
  override destroy(a?: Error | null | (() => void), b?: () => void): Promise<void> | void {
    this.#closed = true
    for (const s of this.#sessions) s.session.destroy()
    const done = this.#options.upgrades.destroy()
    const callback = typeof a === 'function' ? a : b
    if (callback === undefined) return done
    void done.then(callback)
  }
}

/** One request on a session: undici's raw handler callbacks from an HTTP/2 stream. */
class H2Exchange {
  readonly #pooled: PooledSession
  readonly #opts: Dispatcher.DispatchOptions
  readonly #handler: RawHandler
  #stream: ClientHttp2Stream | undefined
  #trailers: IncomingHttpHeaders | undefined
  #headersTimer: NodeJS.Timeout | undefined
  #done = false

  constructor(pooled: PooledSession, opts: Dispatcher.DispatchOptions, handler: RawHandler) {
    this.#pooled = pooled
    this.#opts = opts
    this.#handler = handler
  }

  start(): void {
    const { session } = this.#pooled
    this.#pooled.active++
    const context = this.#pooled.started++ > 0 ? REUSED : FRESH
    this.#handler.onConnect?.(
      (err) => this.#fail(err ?? new UpstreamH2Error('UND_ERR_ABORTED', 'request aborted'), h2.NGHTTP2_CANCEL),
      context,
    )
    if (this.#done) return
    const body = this.#opts.body as Readable | Buffer | string | null | undefined
    let stream: ClientHttp2Stream
    try {
      stream = session.request(this.#requestHeaders(), { endStream: body === null || body === undefined })
    } catch (err) {
      this.#fail(new UpstreamH2Error('UND_ERR_SOCKET', (err as Error).message, { cause: err }))
      return
    }
    this.#stream = stream
    const headersTimeout = this.#opts.headersTimeout ?? 300_000
    if (headersTimeout > 0) {
      this.#headersTimer = setTimeout(
        () => this.#fail(new UpstreamH2Error('UND_ERR_HEADERS_TIMEOUT', 'the upstream sent no response head in time'), h2.NGHTTP2_CANCEL),
        headersTimeout,
      )
    }
    stream.on('response', (headers) => this.#onResponse(headers))
    stream.on('trailers', (trailers) => {
      this.#trailers = trailers
    })
    stream.on('end', () => this.#complete())
    stream.on('error', (err: NodeJS.ErrnoException) => this.#fail(this.#streamError(err)))
    stream.on('close', () => {
      if (this.#done) return
      this.#fail(
        this.#pooled.connected
          ? new UpstreamH2Error('UND_ERR_SOCKET', `the upstream reset the stream (code ${stream.rstCode})`)
          : this.#streamError(undefined),
      )
    })
    if (typeof body === 'string' || Buffer.isBuffer(body)) stream.end(body)
    else if (body !== null && body !== undefined) {
      // The body's own error goes to the handler as it is (a body limit or a gRPC-web decode
      // error carries the gateway's code), like undici does.
      body.on('error', (err) => this.#fail(err, h2.NGHTTP2_CANCEL))
      body.pipe(stream)
    }
  }

  #requestHeaders(): OutgoingHttpHeaders {
    const out: OutgoingHttpHeaders = {
      [h2.HTTP2_HEADER_METHOD]: this.#opts.method,
      [h2.HTTP2_HEADER_PATH]: this.#opts.path,
      [h2.HTTP2_HEADER_SCHEME]: this.#pooled.scheme,
    }
    const flat = this.#opts.headers as string[] | null | undefined
    let authority: string | undefined
    if (Array.isArray(flat)) {
      for (let i = 0; i < flat.length; i += 2) {
        const name = (flat[i] as string).toLowerCase()
        const value = flat[i + 1] as string
        if (name === 'host') authority = value
        if (CONNECTION_SPECIFIC.has(name) || (name === 'te' && value !== 'trailers')) continue
        const existing = out[name]
        if (existing === undefined) out[name] = value
        else if (name === 'cookie') out[name] = `${existing}; ${value}`
        else out[name] = Array.isArray(existing) ? [...existing, value] : [String(existing), value]
      }
    }
    out[h2.HTTP2_HEADER_AUTHORITY] = authority ?? this.#pooled.authority
    return out
  }

  #onResponse(headers: IncomingHttpHeaders & IncomingHttpStatusHeader): void {
    if (this.#done) return
    clearTimeout(this.#headersTimer)
    const status = Number(headers[':status'])
    const raw: Buffer[] = []
    for (const name of Object.keys(headers)) {
      if (name.charCodeAt(0) === 58 /* : */) continue
      const value = headers[name]
      if (Array.isArray(value)) for (const v of value) raw.push(Buffer.from(name), Buffer.from(v))
      else if (value !== undefined) raw.push(Buffer.from(name), Buffer.from(String(value)))
    }
    const stream = this.#stream as ClientHttp2Stream
    const bodyTimeout = this.#opts.bodyTimeout ?? 300_000
    if (bodyTimeout > 0) {
      stream.setTimeout(bodyTimeout, () =>
        this.#fail(new UpstreamH2Error('UND_ERR_BODY_TIMEOUT', 'the upstream body stalled'), h2.NGHTTP2_CANCEL),
      )
    }
    const resume = () => stream.resume()
    if (this.#handler.onHeaders?.(status, raw, resume, '') === false) stream.pause()
    if (this.#done) return
    stream.on('data', (chunk: Buffer) => {
      if (!this.#done && this.#handler.onData?.(chunk) === false) stream.pause()
    })
  }

  #complete(): void {
    if (this.#done) return
    this.#done = true
    this.#release()
    const trailers: Record<string, string | string[]> = {}
    if (this.#trailers !== undefined) {
      for (const name of Object.keys(this.#trailers)) {
        const value = this.#trailers[name]
        if (value !== undefined) trailers[name] = value
      }
    }
    this.#handler.onComplete?.(trailers)
  }

  #fail(err: Error, rstCode?: number): void {
    if (this.#done) return
    this.#done = true
    this.#release()
    const stream = this.#stream
    if (stream !== undefined && !stream.closed) stream.close(rstCode ?? h2.NGHTTP2_CANCEL)
    this.#handler.onError?.(err)
  }

  /**
   * A stream of a session that never connected fails with the session's own error, so a refused
   * or timed-out connect is a connect failure (retried on another backend); others are resets.
   */
  #streamError(err: NodeJS.ErrnoException | undefined): Error {
    if (!this.#pooled.connected) {
      return (
        this.#pooled.failure ??
        (err?.cause as Error | undefined) ??
        new UpstreamH2Error('ECONNREFUSED', 'could not connect to the upstream')
      )
    }
    if (err?.code !== undefined && /^E[A-Z]+$/.test(err.code)) return err as Error
    return new UpstreamH2Error('UND_ERR_SOCKET', err?.message ?? 'stream failed', { cause: err })
  }

  #release(): void {
    clearTimeout(this.#headersTimer)
    this.#pooled.active--
  }
}

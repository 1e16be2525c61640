import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerOptions,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http'
import { createServer as createH2Server, type Http2Server, constants as h2, type ServerHttp2Session, type Settings } from 'node:http2'
import { createServer as createHttpsServer } from 'node:https'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls'
import { ERROR_CODES, type ErrorCode, GatewayError } from './errors.ts'
import type { ServerRuntime } from './snapshot.ts'
import type { ServerTls } from './tls/types.ts'

/** What a listener hands its requests to. */
export interface ListenerHandlers {
  /** Every request: HTTP/1.1, and HTTP/2 through Node's compatibility API. */
  onRequest(req: IncomingMessage, res: ServerResponse): void
  /** An HTTP/1.1 `Upgrade: websocket` request; other upgrades (h2c, ...) are served as plain requests. */
  onUpgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): void
}

/** A bound listening socket, reused across reloads while its address and kind stay in the config. */
export interface Listener {
  /** "host:port" as configured (the key servers are found by). */
  readonly key: string
  /** Plain or TLS, with or without HTTP/2 (see listenerKind): a change of kind re-opens the listener. */
  readonly kind: string
  readonly server: Server
  /** The port actually bound (differs from the configured one only for port 0). */
  readonly port: number
  /** Applies a server's timeouts, header limits, HTTP/2 settings and certificates to the live listener (new connections for max_header_size over HTTP/1.1). */
  configure(server: ServerRuntime): void
  /** Stops accepting, lets in-flight requests finish, closes idle keep-alive connections and HTTP/2 sessions. */
  close(): Promise<void>
  /** Closes every connection now. */
  destroy(): void
}

/** The listener shape a server needs; listeners are reused only for the same kind. */
export function listenerKind(server: ServerRuntime): string {
  if (server.tls === undefined) return server.config.h2c ? 'http+h2c' : 'http'
  const clientCert = server.tls.requestClientCert ? (server.tls.clientAuth === 'required' ? '+client-cert-required' : '+client-cert') : ''
  return `https${server.config.enable_http2 ? '+h2' : ''}${clientCert}`
}

/** Node's parser errors that are not a plain 400 BAD_REQUEST. */
const CLIENT_ERRORS: Record<string, ErrorCode> = {
  HPE_HEADER_OVERFLOW: 'HEADERS_TOO_LARGE',
  ERR_HTTP_REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
}

/** The body of the listener's own error answers (requests Node's HTTP/1.1 parser refuses), as sendError writes it. */
function clientErrorBody(code: ErrorCode): string {
  const { status, message } = ERROR_CODES[code]
  return `${JSON.stringify({ error: { code, status, message } })}\n`
}

/** Answers a request Node could not parse (400, 431, 408) and closes the connection; never throws. */
function onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy()
    return
  }
  // Bytes the parser refuses after a request it accepted (data after "Connection: close", a
  // bad pipelined request): that request's response is still on its way and must not be
  // preceded by a 400. It ends the connection once it is sent; nothing more is read.
  const pending = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage
  if (pending != null) {
    const req = pending.req
    // The client closed its side in the middle of that request's body: the body can never be
    // whole, so the connection goes as on a reset and the request is recorded as CLIENT_CLOSED
    // (kept, it would wait for the rest until request_timeout).
    if (err.code === 'HPE_INVALID_EOF_STATE' && req?.complete === false) socket.destroy()
    else {
      pending.shouldKeepAlive = false
      // The body turned malformed partway (a bad chunk size line, bytes where a chunk's CRLF
      // belongs): nothing more will be parsed, so the request fails now, as the client's fault.
      if (req?.complete === false)
        failRequestBody(req, new GatewayError(CLIENT_ERRORS[err.code ?? ''] ?? 'BAD_REQUEST', undefined, { cause: err }))
    }
    return
  }
  const code = CLIENT_ERRORS[err.code ?? ''] ?? 'BAD_REQUEST'
  const status = ERROR_CODES[code].status
  const body = clientErrorBody(code)
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nx-fleetgate-error: ${code}\r\nconnection: close\r\n\r\n${body}`,
  )
}

/**
 * Fails a request's body stream with `err` and keeps its connection, so that the gateway can
 * still answer (400, or a cut response: see forward.ts and handler.ts) and the connection ends
 * after it (shouldKeepAlive). IncomingMessage's own destroy would destroy the socket at once: the
 * client would never learn why, and the request would be recorded as CLIENT_CLOSED.
 */
function failRequestBody(req: IncomingMessage, err: GatewayError): void {
  if (req.destroyed) return
  ;(req as IncomingMessage & { _destroy: typeof destroyBodyOnly })._destroy = destroyBodyOnly
  req.destroy(err)
}

/** A stream-only _destroy; like IncomingMessage's, it emits the error only to a stream someone listens to. */
function destroyBodyOnly(this: IncomingMessage, err: Error | null, cb: (err?: Error | null) => void): void {
  cb(this.listenerCount('error') === 0 ? null : err)
}

/** Answers an HTTP/1.1 CONNECT with 405 and closes: Fleetgate is a reverse proxy, not a tunnel. */
function refuseConnect(_req: IncomingMessage, socket: Duplex): void {
  const body = `${JSON.stringify({ error: { code: 'METHOD_NOT_ALLOWED', status: 405, message: 'CONNECT is not supported' } })}\n`
  socket.on('error', () => {})
  socket.end(
    `HTTP/1.1 405 Method Not Allowed\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nx-fleetgate-error: METHOD_NOT_ALLOWED\r\nconnection: close\r\n\r\n${body}`,
  )
}

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')

/**
 * Reads the first bytes of a plain connection: the HTTP/2 connection preface means h2c with
 * prior knowledge, anything else is HTTP/1.1. Node's HTTP/2 session takes already-read bytes
 * back from the stream buffer; the HTTP/1.1 parser reads the socket handle directly, so it is
 * fed the sniffed bytes as a data event.
 */
function sniffH2c(socket: Socket, onH1: (socket: Socket, head: Buffer) => void, onH2: (socket: Socket) => void, timeoutMs: number): void {
  let seen: Buffer | undefined
  const timer = setTimeout(() => socket.destroy(), timeoutMs)
  const decide = (isH2: boolean) => {
    clearTimeout(timer)
    socket.off('data', onData)
    socket.off('close', onClose)
    const head = seen as Buffer
    if (isH2) {
      socket.pause()
      socket.unshift(head)
      onH2(socket)
    } else onH1(socket, head)
  }
  const onData = (chunk: Buffer) => {
    seen = seen === undefined ? chunk : Buffer.concat([seen, chunk])
    const n = Math.min(seen.length, PREFACE.length)
    if (seen.compare(PREFACE, 0, n, 0, n) !== 0) decide(false)
    else if (seen.length >= PREFACE.length) decide(true)
  }
  const onClose = () => clearTimeout(timer)
  socket.on('data', onData)
  socket.once('close', onClose)
}

/** Most header fields nghttp2 accepts in one request (the extra 8: pseudo-header fields). */
const maxHeaderPairs = (rt: ServerRuntime) => rt.maxHeaders + 8

function h2Settings(rt: ServerRuntime): Settings {
  return {
    maxConcurrentStreams: rt.config.h2_max_concurrent_streams,
    // nghttp2 resets (no 431) a stream whose header list, counted with 32 octets a field on top
    // (RFC 9113 6.5.2), is over this, and only once the client acknowledged it: the first requests
    // of a session are not held to it at all. max_header_size itself is checked on each request
    // (handler.ts); this is a backstop set well above it, so that a head the gateway
    // admits is never reset and one a little too big gets the 431.
    maxHeaderListSize: Math.min(2 * rt.maxHeaderSize + 32 * maxHeaderPairs(rt), 2 ** 32 - 1),
    // RFC 8441: WebSocket over HTTP/2 (extended CONNECT).
    enableConnectProtocol: true,
  }
}

/** Per-connection HTTP/2 guard: closes a session whose client resets streams faster than allowed (rapid reset). */
function guardSession(session: ServerHttp2Session, limits: { resetsPerSecond: number; idleMs: number }): void {
  let windowStart = 0
  let resets = 0
  let refused = false
  session.on('stream', (stream) => {
    stream.once('aborted', () => {
      const now = performance.now()
      if (now - windowStart > 1000) {
        windowStart = now
        resets = 0
      }
      if (++resets > limits.resetsPerSecond && !refused && !session.closed) {
        refused = true
        // GOAWAY alone (nghttp2 refuses new streams from then on), and the connection torn down a
        // moment later. Destroyed at once, the socket closed before the frame was flushed; and
        // session.close() with no stream open destroys at once too, sending its own GOAWAY
        // (NO_ERROR or INTERNAL_ERROR) that could reach the client first: it never learnt why.
        session.goaway(h2.NGHTTP2_ENHANCE_YOUR_CALM)
        setTimeout(() => session.destroy(), 1000).unref()
      }
    })
  })
  // An idle session is closed gracefully: streams still open (a long gRPC stream) may finish.
  session.setTimeout(limits.idleMs, () => session.close())
  session.once('close', () => clearTimeout(idleTimerOf(session)))
  session.on('error', () => {})
}

/**
 * The idle timer `session.setTimeout` armed. Node (24.21) leaves it armed when the session is
 * destroyed, and `setTimeout(0)` does nothing on a destroyed session, so every closed session
 * stayed reachable from the timer list until its idle time (keepalive_timeout, 60 s) ran out.
 * Node keeps the timer under a symbol described "timeout"; undefined if that ever changes.
 */
function idleTimerOf(session: ServerHttp2Session): NodeJS.Timeout | undefined {
  const key = Object.getOwnPropertySymbols(session).find((symbol) => symbol.description === 'timeout')
  return key === undefined ? undefined : (session as unknown as Record<symbol, NodeJS.Timeout | undefined>)[key]
}

/**
 * Binds a listener on `host:port`: plain HTTP/1.1 (optionally h2c by prior knowledge), or TLS
 * with SNI (optionally h2 by ALPN, falling back to HTTP/1.1). HTTP/2 connections go to an inner
 * HTTP/2 server that never listens itself; requests of both protocols reach `handlers.onRequest`.
 * With `reusePort`, several worker processes bind the same address and the kernel spreads connections.
 */
export async function openListener(
  key: string,
  host: string,
  port: number,
  runtime: ServerRuntime,
  handlers: ListenerHandlers,
  reusePort = false,
): Promise<Listener> {
  const kind = listenerKind(runtime)
  let rt = runtime
  let tls: ServerTls | undefined = runtime.tls
  const h1Options: ServerOptions = {
    maxHeaderSize: runtime.maxHeaderSize,
    requireHostHeader: false,
    joinDuplicateHeaders: false,
    connectionsCheckingInterval: 1000,
    // Only WebSocket upgrades leave the HTTP flow; `Upgrade: h2c` and others are served as plain requests.
    shouldUpgradeCallback: (req) => handlers.onUpgrade !== undefined && isWebSocketUpgrade(req),
  }
  const server: Server =
    tls === undefined
      ? createHttpServer(h1Options, handlers.onRequest)
      : (createHttpsServer(
          {
            ...h1Options,
            ALPNProtocols: runtime.config.enable_http2 ? ['h2', 'http/1.1'] : ['http/1.1'],
            SNICallback: (name, cb) => cb(null, (tls as ServerTls).contextFor(name)),
            requestCert: tls.requestClientCert,
            // "required": no verified client certificate, no handshake; "optional": the request sees whether it verified.
            rejectUnauthorized: tls.clientAuth === 'required',
          },
          handlers.onRequest,
        ) as unknown as Server)
  server.on('clientError', onClientError)
  // HTTP/1.1 CONNECT (a forward-proxy tunnel) is not offered; without a listener Node would drop the socket.
  server.on('connect', refuseConnect)
  // Upgraded sockets leave Node's connection tracking (closeAllConnections): kept here for destroy().
  const upgraded = new Set<Duplex>()
  const onUpgrade = handlers.onUpgrade
  if (onUpgrade !== undefined) {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      upgraded.add(socket)
      socket.once('close', () => upgraded.delete(socket))
      onUpgrade(req, socket, head)
    })
  }

  const wantsH2 = tls === undefined ? runtime.config.h2c : runtime.config.enable_http2
  const sessions = new Set<ServerHttp2Session>()
  let h2server: Http2Server | undefined
  if (wantsH2) {
    h2server = createH2Server(
      { settings: h2Settings(runtime), maxHeaderListPairs: maxHeaderPairs(runtime), maxSessionMemory: 32 },
      handlers.onRequest as never,
    )
    // Node's compatibility API hands CONNECT (RFC 8441 extended CONNECT included) to 'connect', not 'request'.
    h2server.on('connect', handlers.onRequest as never)
    h2server.on('session', (session: ServerHttp2Session) => {
      sessions.add(session)
      session.once('close', () => sessions.delete(session))
      guardSession(session, { resetsPerSecond: rt.config.h2_max_resets_per_second, idleMs: rt.keepAliveTimeoutMs })
    })
    const inner = h2server
    const event = tls === undefined ? 'connection' : 'secureConnection'
    const [h1Connection] = server.listeners(event) as Array<(socket: Socket) => void>
    server.removeAllListeners(event)
    if (tls === undefined) {
      server.on('connection', (socket: Socket) =>
        sniffH2c(
          socket,
          (s, head) => {
            h1Connection?.call(server, s)
            s.emit('data', head)
          },
          (s) => {
            // node:http sets TCP_NODELAY in its own connection handler, which HTTP/2 sockets skip.
            s.setNoDelay(true)
            inner.emit('connection', s)
          },
          rt.headerTimeoutMs,
        ),
      )
    } else {
      server.on('secureConnection', (socket: TLSSocket) => {
        if (socket.alpnProtocol === 'h2') {
          socket.setNoDelay(true)
          inner.emit('connection', socket)
        } else h1Connection?.call(server, socket)
      })
    }
  }
  // A certificate reloaded from disk: contextFor() already serves it, the no-SNI default is re-set here.
  let unsubscribeReload: (() => void) | undefined
  const followTls = (next: ServerTls) => {
    unsubscribeReload?.()
    tls = next
    const defaultContext = (t: ServerTls) => t.contextFor(undefined) ?? t.bareContext?.()
    setDefaultContext(server, defaultContext(next))
    unsubscribeReload = next.onReload?.(() => setDefaultContext(server, defaultContext(tls as ServerTls)))
  }
  if (tls !== undefined) {
    followTls(tls)
    // OCSP stapling: Node asks on each handshake whose client wants a status (status_request).
    server.on('OCSPRequest', (certificate: Buffer, issuer: Buffer, cb: (err: Error | null, response?: Buffer) => void) => {
      let response: Buffer | undefined
      try {
        response = tls?.ocspResponse?.(certificate, issuer)
      } catch {
        response = undefined
      }
      cb(null, response)
    })
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host, port, backlog: 1024, reusePort }, () => {
      server.off('error', reject)
      resolve()
    })
  })
  server.on('error', () => {})
  const listener: Listener = {
    key,
    kind,
    server,
    port: (server.address() as { port: number }).port,
    configure(next) {
      rt = next
      // Node enforces neither when the head's limit is over the whole request's: the head then
      // gets the shorter of the two (request_timeout "1s" with the default header_timeout "30s").
      server.headersTimeout =
        next.requestTimeoutMs > 0 && next.headerTimeoutMs > next.requestTimeoutMs ? next.requestTimeoutMs : next.headerTimeoutMs
      server.requestTimeout = next.requestTimeoutMs
      server.keepAliveTimeout = next.keepAliveTimeoutMs
      server.maxHeadersCount = next.maxHeaders + 1
      // Node's HTTP/1.1 parser takes the limit from this (undeclared) property for each new connection.
      ;(server as Server & { maxHeaderSize: number }).maxHeaderSize = next.maxHeaderSize
      h2server?.updateSettings(h2Settings(next))
      if (next.tls !== undefined && next.tls !== tls) followTls(next.tls)
    },
    close: () =>
      new Promise<void>((resolve) => {
        unsubscribeReload?.()
        server.close(() => resolve())
        server.closeIdleConnections()
        for (const session of sessions) session.close()
      }),
    destroy: () => {
      server.closeAllConnections()
      for (const socket of upgraded) socket.destroy()
      for (const session of sessions) session.destroy()
    },
  }
  listener.configure(runtime)
  return listener
}

function isWebSocketUpgrade(req: IncomingMessage): boolean {
  const upgrade = req.headers.upgrade
  return upgrade !== undefined && upgrade.toLowerCase() === 'websocket'
}

/**
 * The context for handshakes without SNI (clients reaching the gateway by IP address). Node
 * keeps it in the TLS server's `_sharedCreds`; setSecureContext() would re-parse the PEM, so
 * the store's compiled context is assigned instead. With no default certificate it is the
 * server's bare context (its versions and ciphers, no certificate: a handshake without SNI
 * fails cleanly), or an empty one for a TLS source that has none.
 */
function setDefaultContext(server: Server, context: SecureContext | undefined): void {
  const target = server as unknown as { _sharedCreds: SecureContext | undefined }
  target._sharedCreds = context ?? EMPTY_CONTEXT
}

const EMPTY_CONTEXT = createSecureContext({})

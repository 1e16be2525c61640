import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http'
import { createServer as createH2Server, type Http2Server, type ServerHttp2Session } from 'node:http2'
import { createServer as createHttpsServer } from 'node:https'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls'
import { onClientError, refuseConnect } from './client-error.ts'
import { guardSession, h2Settings, maxHeaderPairs } from './h2-session.ts'
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

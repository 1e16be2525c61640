import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { ServerRuntime } from './snapshot.ts'

/** A bound listening socket, reused across reloads while its address stays in the config. */
export interface Listener {
  /** "host:port" as configured (the key servers are found by). */
  readonly key: string
  readonly server: Server
  /** The port actually bound (differs from the configured one only for port 0). */
  readonly port: number
  /** Applies a server's timeouts to the live listener. */
  configure(server: ServerRuntime): void
  /** Stops accepting, lets in-flight requests finish, closes idle keep-alive connections. */
  close(): Promise<void>
  /** Closes every connection now. */
  destroy(): void
}

const CLIENT_ERRORS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'HEADERS_TOO_LARGE'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'REQUEST_TIMEOUT'],
}

/** Answers a request Node could not parse (400, 431, 408) and closes the connection; never throws. */
function onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy()
    return
  }
  const [status, code] = CLIENT_ERRORS[err.code ?? ''] ?? [400, 'BAD_REQUEST']
  const body = `${JSON.stringify({ error: { code, status, message: 'malformed or oversized request' } })}\n`
  socket.end(
    `HTTP/1.1 ${status} ${code}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
  )
}

/**
 * Binds a plain HTTP/1.1 listener on `host:port` serving through `onRequest`; with
 * `reusePort`, several worker processes bind the same address and the kernel spreads connections.
 */
export async function openListener(
  key: string,
  host: string,
  port: number,
  runtime: ServerRuntime,
  onRequest: (req: IncomingMessage, res: ServerResponse) => void,
  reusePort = false,
): Promise<Listener> {
  const server = createServer(
    {
      maxHeaderSize: runtime.maxHeaderSize,
      requireHostHeader: false,
      joinDuplicateHeaders: false,
      connectionsCheckingInterval: 1000,
    },
    onRequest,
  )
  server.on('clientError', onClientError)
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
    server,
    port: (server.address() as { port: number }).port,
    configure(rt) {
      server.headersTimeout = rt.headerTimeoutMs
      server.requestTimeout = rt.requestTimeoutMs
      server.keepAliveTimeout = rt.keepAliveTimeoutMs
      server.maxHeadersCount = rt.maxHeaders + 1
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
      }),
    destroy: () => server.closeAllConnections(),
  }
  listener.configure(runtime)
  return listener
}

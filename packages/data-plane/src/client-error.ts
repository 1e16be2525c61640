import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import { jsonErrorBody } from './error-response.ts'
import { ERROR_CODES, type ErrorCode, GatewayError } from './errors.ts'

// What an HTTP/1.1 listener answers on its own: requests Node's parser refuses (including a body
// that turns malformed partway), and CONNECT.

/** Node's parser errors that are not a plain 400 BAD_REQUEST. */
const CLIENT_ERRORS: Record<string, ErrorCode> = {
  HPE_HEADER_OVERFLOW: 'HEADERS_TOO_LARGE',
  ERR_HTTP_REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
}

/**
 * A whole HTTP/1.1 error answer, for a socket no ServerResponse writes to: the JSON body
 * sendError writes, with the code in `x-fleetgate-error`, and the connection closed after it.
 */
function rawErrorAnswer(code: ErrorCode, message?: string): string {
  const { status } = ERROR_CODES[code]
  const body = jsonErrorBody(code, message)
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-fleetgate-error: ${code}\r\nconnection: close\r\n\r\n${body}`
}

/** Answers a request Node could not parse (400, 431, 408) and closes the connection; never throws. */
export function onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
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
  socket.end(rawErrorAnswer(CLIENT_ERRORS[err.code ?? ''] ?? 'BAD_REQUEST'))
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
export function refuseConnect(_req: IncomingMessage, socket: Duplex): void {
  socket.on('error', () => {})
  socket.end(rawErrorAnswer('METHOD_NOT_ALLOWED', 'CONNECT is not supported'))
}

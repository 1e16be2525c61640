import type { IncomingMessage } from 'node:http'
import type { ErrorCode } from '../errors.ts'
import type { ServerRuntime } from '../snapshot.ts'
import { isHttp2 } from './http2-request.ts'
import { isWebSocketConnect } from './websocket-handshake.ts'

/**
 * What is wrong with a request head before it is routed, as the error it is answered with, or
 * undefined. The checks Node's parsers leave to the server:
 * - an HTTP/1 connection whose request line claims another version ("GET / HTTP/2.0"), RFC 9110
 *   section 15.6.6;
 * - more headers than max_headers, and, over HTTP/2, a head over max_header_size (HTTP/1.1 heads
 *   that big never get here: Node's parser answers 431; nghttp2 refuses none with a 431, see
 *   listener.ts h2Settings);
 * - an HTTP/1.1 request without Host, or with two Host lines (RFC 9112 section 3.2; HTTP/1.0 may
 *   omit it, HTTP/2 has :authority): Node keeps the first of two, which a server behind or in
 *   front of this one may not, and they would disagree about the target;
 * - a CONNECT other than RFC 8441's WebSocket one: plain tunnels are refused.
 */
export function headProblem(req: IncomingMessage, server: ServerRuntime): ErrorCode | undefined {
  const major = req.httpVersionMajor
  if (major !== 1 && !isHttp2(req)) return 'HTTP_VERSION_NOT_SUPPORTED'
  const raw = req.rawHeaders
  if (raw.length > server.maxHeaders * 2 || (major === 2 && headBytes(raw) > server.maxHeaderSize)) return 'HEADERS_TOO_LARGE'
  if (major === 1 && (req.headers.host === undefined ? req.httpVersionMinor !== 0 : hasTwoHosts(raw))) return 'BAD_REQUEST'
  if (req.method === 'CONNECT' && !isWebSocketConnect(req)) return 'METHOD_NOT_ALLOWED'
  return undefined
}

/** Whether a raw header list holds more than one Host line. */
function hasTwoHosts(raw: readonly string[]): boolean {
  let seen = false
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string
    if (name.length !== 4 || (name !== 'Host' && name.toLowerCase() !== 'host')) continue
    if (seen) return true
    seen = true
  }
  return false
}

/**
 * The size of an HTTP/2 request head as HTTP/1.1 measures it (Node's parser counts the URL and
 * every header name and value, without separators): each field's name and value, pseudo-header
 * fields included, so `:path` counts as the URL does.
 */
function headBytes(raw: readonly string[]): number {
  let size = 0
  for (let i = 0; i < raw.length; i++) size += (raw[i] as string).length
  return size
}

import type { IncomingMessage } from 'node:http'
import type { Http2ServerRequest } from 'node:http2'

/**
 * True for a request on a real HTTP/2 stream. Not `httpVersionMajor === 2`: an HTTP/1
 * connection can claim "HTTP/2.0" in its request line, and such a request has no stream.
 */
export function isHttp2(req: IncomingMessage): boolean {
  return (req as unknown as Partial<Http2ServerRequest>).stream !== undefined
}

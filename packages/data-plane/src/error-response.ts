import type { IncomingMessage, ServerResponse } from 'node:http'
import { ERROR_CODES, type ErrorCode } from './errors.ts'
import { encodeTrailerFrame, grpcWebMode } from './proxy/grpc-web-codec.ts'

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }
const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => HTML_ESCAPES[c] as string)

/** A gateway error answer before it is written: what the plugins' response hooks may edit. */
export interface ErrorReply {
  status: number
  headers: Record<string, string>
  body: string
}

/**
 * The answer for a gateway error: JSON by default, HTML when the client prefers it (a
 * browser's Accept), with the stable code in the body and in `x-fleetgate-error`. Undefined
 * for a gRPC or gRPC-web client, whose errors go in grpc-status (sendError writes those).
 */
export function errorReply(req: IncomingMessage, code: ErrorCode, requestId?: string): ErrorReply | undefined {
  if (req.headers['content-type']?.startsWith('application/grpc')) return undefined
  const { status, message } = ERROR_CODES[code]
  const accept = req.headers.accept ?? ''
  const wantsHtml = accept.includes('text/html') && !accept.startsWith('application/json')
  const body = wantsHtml
    ? `<!doctype html><html><head><title>${status} ${escapeHtml(code)}</title></head><body><h1>${status}</h1><p>${escapeHtml(message)}</p><p><code>${escapeHtml(code)}</code>${requestId ? ` request ${escapeHtml(requestId)}` : ''}</p></body></html>\n`
    : jsonErrorBody(code, message, requestId)
  return {
    status,
    headers: {
      'content-type': wantsHtml ? 'text/html; charset=utf-8' : 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'cache-control': 'no-store',
      'x-fleetgate-error': code,
    },
    body,
  }
}

/** The JSON body of a gateway error: `{"error":{"code","status","message","request_id"?}}` and a newline. */
export function jsonErrorBody(code: ErrorCode, message: string = ERROR_CODES[code].message, requestId?: string): string {
  const { status } = ERROR_CODES[code]
  return `${JSON.stringify({ error: { code, status, message, ...(requestId ? { request_id: requestId } : {}) } })}\n`
}

/**
 * Answers a request with a gateway error (see errorReply); a response already started is cut
 * instead. Returns the body bytes sent (the head is written from a plain object, which
 * getHeader() does not see, so logs and metrics take the size from here).
 */
export function sendError(req: IncomingMessage, res: ServerResponse, code: ErrorCode, requestId?: string): number {
  if (res.headersSent) {
    res.destroy()
    return 0
  }
  const reply = errorReply(req, code, requestId)
  if (reply === undefined) {
    const { message, grpc } = ERROR_CODES[code]
    return sendGrpcError(res, req.headers['content-type'] as string, grpc, message, code)
  }
  res.writeHead(reply.status, reply.headers)
  if (req.method === 'HEAD') {
    res.end()
    return 0
  }
  res.end(reply.body)
  return Number(reply.headers['content-length'])
}

/**
 * A gRPC client gets a trailers-only response: HTTP 200, no body, the status in `grpc-status`
 * and the percent-encoded message in `grpc-message` (gRPC over HTTP/2 spec). A gRPC-web client
 * gets HTTP 200 with the same fields in the body's trailer frame (base64 in text mode).
 * Returns the body bytes sent.
 */
function sendGrpcError(res: ServerResponse, contentType: string, grpcStatus: number, message: string, code: ErrorCode): number {
  const semicolon = contentType.indexOf(';')
  res.statusCode = 200
  res.setHeader('content-type', semicolon < 0 ? contentType : contentType.slice(0, semicolon))
  res.setHeader('x-fleetgate-error', code)
  const status = String(grpcStatus)
  const text = encodeGrpcMessage(`${message} (${code})`)
  const web = grpcWebMode(contentType)
  if (web !== undefined) {
    // gRPC-web has no HTTP trailers: the status goes in the body's trailer frame.
    const frame = encodeTrailerFrame([
      ['grpc-status', status],
      ['grpc-message', text],
    ])
    // Base64 is ASCII: its string length is its byte length.
    const body = web.text ? frame.toString('base64') : frame
    res.end(body)
    return body.length
  }
  res.setHeader('grpc-status', status)
  res.setHeader('grpc-message', text)
  res.end()
  return 0
}

/** Percent-encodes a grpc-message value: bytes outside printable ASCII, and '%'. */
export function encodeGrpcMessage(message: string): string {
  let out = ''
  for (const byte of Buffer.from(message, 'utf8')) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

import type { IncomingMessage, ServerResponse } from 'node:http'
import { ERROR_CODES, type ErrorCode } from './errors.ts'

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }
const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => HTML_ESCAPES[c] as string)

/**
 * Answers a request with a gateway error: JSON by default, HTML when the client prefers it
 * (a browser's Accept), with the stable code in the body and in `x-fleetgate-error`.
 */
export function sendError(req: IncomingMessage, res: ServerResponse, code: ErrorCode, requestId?: string): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const { status, message, grpc } = ERROR_CODES[code]
  const contentType = req.headers['content-type']
  if (contentType?.startsWith('application/grpc')) {
    sendGrpcError(res, contentType, grpc, message, code)
    return
  }
  const accept = req.headers.accept ?? ''
  const wantsHtml = accept.includes('text/html') && !accept.startsWith('application/json')
  const body = wantsHtml
    ? `<!doctype html><html><head><title>${status} ${escapeHtml(code)}</title></head><body><h1>${status}</h1><p>${escapeHtml(message)}</p><p><code>${escapeHtml(code)}</code>${requestId ? ` request ${escapeHtml(requestId)}` : ''}</p></body></html>\n`
    : `${JSON.stringify({ error: { code, status, message, ...(requestId ? { request_id: requestId } : {}) } })}\n`
  res.writeHead(status, {
    'content-type': wantsHtml ? 'text/html; charset=utf-8' : 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-fleetgate-error': code,
  })
  res.end(req.method === 'HEAD' ? undefined : body)
}

/**
 * A gRPC (or gRPC-web) client gets a trailers-only response: HTTP 200, no body, the status in
 * `grpc-status` and the percent-encoded message in `grpc-message` (gRPC over HTTP/2 spec).
 */
function sendGrpcError(res: ServerResponse, contentType: string, grpcStatus: number, message: string, code: ErrorCode): void {
  const semicolon = contentType.indexOf(';')
  res.statusCode = 200
  res.setHeader('content-type', semicolon < 0 ? contentType : contentType.slice(0, semicolon))
  res.setHeader('grpc-status', String(grpcStatus))
  res.setHeader('grpc-message', encodeGrpcMessage(`${message} (${code})`))
  res.setHeader('x-fleetgate-error', code)
  res.end()
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

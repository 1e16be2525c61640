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
  const { status, message } = ERROR_CODES[code]
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

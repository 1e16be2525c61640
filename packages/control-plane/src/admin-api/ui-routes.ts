import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { extname, join, relative, sep } from 'node:path'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { errorBody } from './error-reply.ts'

/** Where the UI's static files live: packages/control-plane/web. */
export const UI_DIR = new URL('../../web/', import.meta.url).pathname

/** URL prefix the UI is served under. */
export const UI_PREFIX = '/ui/'

/** One static file, read once: its bytes, media type and strong ETag. */
export interface UiFile {
  body: Buffer
  type: string
  etag: string
}

/** Media types of the files the UI may hold; any other extension is not served. */
const MEDIA_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
}

/**
 * Headers of every UI answer. The CSP allows only this origin's scripts and styles (no inline
 * code, no eval), and API calls to this origin only; the page may not be framed.
 */
export const UI_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cross-origin-opener-policy': 'same-origin',
}

/**
 * Reads every servable file under `dir` into memory, keyed by its path relative to `dir` with `/`
 * separators. Done once at start-up: requests never touch the disk, and a request path can only
 * ever name one of these keys, so nothing outside `dir` is reachable.
 */
export function loadUiFiles(dir: string = UI_DIR): Map<string, UiFile> {
  const files = new Map<string, UiFile>()
  let entries: string[]
  try {
    entries = readdirSync(dir, { recursive: true, encoding: 'utf8' })
  } catch {
    return files
  }
  for (const entry of entries) {
    const type = MEDIA_TYPES[extname(entry).toLowerCase()]
    if (type === undefined) continue
    const path = join(dir, entry)
    const body = readFileSync(path)
    const key = relative(dir, path).split(sep).join('/')
    files.set(key, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` })
  }
  return files
}

/** A request path that tries to leave the UI folder or smuggle bytes: dot segments (raw or %-encoded), backslashes, NUL, control characters. */
function isSuspiciousPath(raw: string, decoded: string): boolean {
  if (/%2e|%2f|%5c|%00/i.test(raw)) return true
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\\\u0000-\u001f\u007f]/.test(decoded)) return true
  return decoded.split('/').some((segment) => segment === '.' || segment === '..')
}

/**
 * The web UI: `GET /` redirects to `/ui/`, `/ui/` is index.html, `/ui/FILE` one of the files read at
 * start-up. Public like `/livez` (the files hold no data; the pages call /api/v1 with the user's
 * token). Unknown files are 404, traversal attempts 400; every answer carries {@link UI_SECURITY_HEADERS}.
 */
export function registerUiRoutes(app: FastifyInstance, files: Map<string, UiFile> = loadUiFiles()): void {
  const options = { config: { access: 'public' as const }, logLevel: 'warn' as const }
  const withHeaders = (reply: FastifyReply) => reply.headers(UI_SECURITY_HEADERS)
  app.get('/', options, async (_request, reply) => withHeaders(reply).redirect(UI_PREFIX, 302))
  app.get('/ui', options, async (_request, reply) => withHeaders(reply).redirect(UI_PREFIX, 301))
  app.get(`${UI_PREFIX}*`, options, async (request: FastifyRequest<{ Params: { '*': string } }>, reply) => {
    withHeaders(reply)
    const raw = (request.url.split('?')[0] ?? '').slice(UI_PREFIX.length)
    const name = request.params['*'] ?? ''
    if (isSuspiciousPath(raw, name))
      return reply
        .code(400)
        .send(errorBody('BAD_PATH', 'the UI path may not contain dot segments, encoded separators or control characters'))
    const file = files.get(name === '' ? 'index.html' : name)
    if (file === undefined) return reply.code(404).send(errorBody('NOT_FOUND', `no such UI file: ${UI_PREFIX}${name}`))
    reply.header('content-type', file.type).header('etag', file.etag).header('cache-control', 'no-cache')
    if (request.headers['if-none-match'] === file.etag) return reply.code(304).send()
    return reply.send(file.body)
  })
}

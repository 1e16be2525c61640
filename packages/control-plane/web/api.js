// The admin API client: JSON (or TOML) over fetch with the session's bearer token.
import { currentToken } from './session.js'

/** A failed call: the HTTP status (0 when the control plane did not answer) and the API's error body. */
export class ApiError extends Error {
  constructor(status, body, fallback) {
    const parsed = body !== null && typeof body === 'object' ? body : {}
    super(typeof parsed.message === 'string' ? parsed.message : fallback)
    this.name = 'ApiError'
    this.status = status
    this.code = typeof parsed.error === 'string' ? parsed.error : `HTTP_${status}`
    this.errors = Array.isArray(parsed.errors) ? parsed.errors.filter((e) => e && typeof e === 'object') : []
  }
}

const listeners = new Set()

/** Calls `fn(error)` on every 401 (the token was revoked or is wrong); returns an unsubscribe function. */
export function onUnauthorized(fn) {
  listeners.add(fn)
  return () => listeners.delete(fn)
}

/** Path of a resource (or a singleton section when `name` is undefined), each segment encoded. */
export function resourcePath(kind, name) {
  return name === undefined ? `/${encodeURIComponent(kind)}` : `/${encodeURIComponent(kind)}/${encodeURIComponent(name)}`
}

/**
 * Calls `/api/v1{path}`. Options: `json` (a body sent as JSON), `text` + `type` (a raw body),
 * `accept`, `headers`, `token` (instead of the session's, for signing in). Resolves with
 * `{status, data, etag}` (data parsed when JSON); rejects with an {@link ApiError} otherwise.
 */
export async function apiCall(method, path, options = {}) {
  const headers = { accept: options.accept ?? 'application/json', ...options.headers }
  const token = options.token ?? currentToken()
  if (token) headers.authorization = `Bearer ${token}`
  let body
  if (options.json !== undefined) {
    body = JSON.stringify(options.json)
    headers['content-type'] = 'application/json'
  } else if (options.text !== undefined) {
    body = options.text
    headers['content-type'] = options.type ?? 'text/plain'
  }
  let res
  try {
    res = await fetch(`/api/v1${path}`, { method, headers, body, cache: 'no-store', credentials: 'omit', redirect: 'error' })
  } catch (err) {
    throw new ApiError(0, null, `the control plane did not answer (${err.message})`)
  }
  const raw = await res.text()
  let data = raw
  if ((res.headers.get('content-type') ?? '').includes('json') && raw !== '') {
    try {
      data = JSON.parse(raw)
    } catch {
      data = raw
    }
  }
  if (!res.ok) {
    const error = new ApiError(res.status, data, `${method} ${path} failed with HTTP ${res.status}`)
    if (res.status === 401 && options.token === undefined) for (const fn of listeners) fn(error)
    throw error
  }
  return { status: res.status, data, etag: res.headers.get('etag') }
}

let schemaPromise = null

/** `GET /schema`, fetched once per page load (it only changes with the control plane's version). */
export function loadSchema() {
  schemaPromise ??= apiCall('GET', '/schema').then((r) => r.data)
  schemaPromise.catch(() => {
    schemaPromise = null
  })
  return schemaPromise
}

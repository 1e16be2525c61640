import type { ConfigError } from './errors.ts'

/**
 * What a cache instance drops: the variants of one URL, or every URL under a prefix, in the form
 * the cache keys them: "host/path?query" (host lower-cased, without scheme or port).
 */
export type CachePurgeTarget = { url: string } | { prefix: string }

/** `purge/<id>`: one purge for every data plane, kept under a short lease (see CACHE_PURGE_TTL_SECONDS). */
export interface CachePurgeRecord {
  /** Time-sortable id (the key's last segment). */
  id: string
  /** The `[plugins.NAME]` cache instance; null: every cache instance. */
  plugin: string | null
  target: CachePurgeTarget
  /** ISO time the control plane took the request. */
  at: string
}

/** How long a purge record stays in the store: long enough for every watching node to see it. */
export const CACHE_PURGE_TTL_SECONDS = 60

const MAX_URL_LENGTH = 8192
const KEYS = new Set(['plugin', 'url', 'prefix'])

/**
 * Validates an admin purge request `{"plugin"?: NAME, "url": "http://host/path?q"}` or
 * `{"plugin"?: NAME, "prefix": "http://host/path*"}` into its target; every problem is
 * reported with its key as path.
 */
export function parseCachePurgeRequest(
  body: unknown,
): { ok: true; plugin: string | null; target: CachePurgeTarget } | { ok: false; errors: ConfigError[] } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { ok: false, errors: [{ path: '', message: 'body must be {"url": URL} or {"prefix": "URL*"}, with an optional "plugin"' }] }
  }
  const input = body as Record<string, unknown>
  const errors: ConfigError[] = []
  for (const key of Object.keys(input))
    if (!KEYS.has(key)) errors.push({ path: key, message: `unknown key (expected plugin, url or prefix)` })
  const plugin = input.plugin
  if (plugin !== undefined && (typeof plugin !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(plugin))) {
    errors.push({ path: 'plugin', message: 'expected a plugin instance name (letters, digits, "_", ".", "-")' })
  }
  let target: CachePurgeTarget | undefined
  if ((input.url === undefined) === (input.prefix === undefined)) {
    errors.push({ path: input.url === undefined ? 'url' : 'prefix', message: 'give exactly one of "url" and "prefix"' })
  } else if (input.url !== undefined) {
    const url = cacheUrlOf(input.url, false)
    if (typeof url === 'string') target = { url }
    else errors.push({ path: 'url', message: url.error })
  } else {
    const prefix = cacheUrlOf(input.prefix, true)
    if (typeof prefix === 'string') target = { prefix }
    else errors.push({ path: 'prefix', message: prefix.error })
  }
  if (errors.length > 0 || target === undefined) return { ok: false, errors }
  return { ok: true, plugin: (plugin as string | undefined) ?? null, target }
}

/** A purge record from the store, or undefined when it is not one (a foreign or damaged key). */
export function decodeCachePurgeRecord(text: string): CachePurgeRecord | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  const r = value as Partial<CachePurgeRecord> | null
  if (r === null || typeof r !== 'object' || typeof r.id !== 'string' || typeof r.at !== 'string') return undefined
  if (r.plugin !== null && typeof r.plugin !== 'string') return undefined
  const t = r.target as Record<string, unknown> | undefined
  if (t === undefined || t === null || typeof t !== 'object') return undefined
  if (typeof t.url === 'string') return { id: r.id, plugin: r.plugin, at: r.at, target: { url: t.url } }
  if (typeof t.prefix === 'string') return { id: r.id, plugin: r.plugin, at: r.at, target: { prefix: t.prefix } }
  return undefined
}

/** A purge id that sorts by time: milliseconds (15 digits) then random hex. */
export function cachePurgeId(now: number, randomHex: string): string {
  return `${String(now).padStart(15, '0')}-${randomHex}`
}

/** "http://Host:8080/a/b?q" to "host/a/b?q"; with `isPrefix`, the value must end in "*" (dropped). */
function cacheUrlOf(value: unknown, isPrefix: boolean): string | { error: string } {
  const shape = isPrefix ? '"http://host/path*"' : '"http://host/path?query"'
  if (typeof value !== 'string' || value === '') return { error: `expected a URL like ${shape}` }
  if (value.length > MAX_URL_LENGTH) return { error: `longer than ${MAX_URL_LENGTH} characters` }
  if (isPrefix && !value.endsWith('*')) return { error: `a prefix ends with "*", like ${shape}` }
  const text = isPrefix ? value.slice(0, -1) : value
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return { error: `not an absolute URL: expected ${shape}` }
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { error: 'only http and https URLs are cached' }
  if (url.hash !== '' || text.includes('#')) return { error: 'a URL with a fragment is never a cache key' }
  if (url.username !== '' || url.password !== '') return { error: 'a URL with credentials is never a cache key' }
  // Every cached path starts with "/", so "http://host*" and "http://host/*" purge the same.
  // A prefix keeps a query as written ("http://h/p?a*" purges "h/p?a=1" too).
  if (isPrefix) return `${url.hostname}${url.pathname}${url.search || (text.endsWith('?') ? '?' : '')}`
  return url.search === '' ? `${url.hostname}${url.pathname}` : `${url.hostname}${url.pathname}${url.search}`
}

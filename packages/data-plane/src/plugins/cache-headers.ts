import type { CacheEntry } from './response-cache.ts'

/** Headers never stored: recomputed (Age) or per response (X-Cache). */
const NOT_STORED = new Set(['age', 'x-cache'])
/**
 * Headers a 304 does not update in a stored response (RFC 9111 3.2): the stored body's own
 * framing and encoding, plus the ones never stored.
 */
const NOT_UPDATED = new Set([...NOT_STORED, 'content-length', 'content-encoding', 'content-range', 'transfer-encoding'])

/** The headers of a stored response, by name as sent (case kept), with their byte count. */
export interface StoredHeaders {
  headers: Record<string, string[]>
  bytes: number
}

/** Converts a flat [name, value, ...] list into stored headers, leaving out `skip` (lower-case names). */
export function storeHeaders(flat: readonly string[], skip: ReadonlySet<string> = NOT_STORED): StoredHeaders {
  const headers: Record<string, string[]> = {}
  let bytes = 0
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i] as string
    if (skip.has(name.toLowerCase())) continue
    const value = flat[i + 1] as string
    const values = headers[name]
    if (values === undefined) headers[name] = [value]
    else values.push(value)
    bytes += name.length + value.length + 4
  }
  return { headers, bytes }
}

/** Stored headers as a flat [name, value, ...] list (a fresh array the caller may edit). */
export function flattenHeaders(headers: Readonly<Record<string, readonly string[]>>): string[] {
  const flat: string[] = []
  for (const [name, values] of Object.entries(headers)) for (const value of values) flat.push(name, value)
  return flat
}

/**
 * The stored headers updated by a 304 (RFC 9111 4.3.4, 3.2): every field the 304 carries
 * replaces the stored one of that name, except the body's framing and encoding.
 */
export function mergeNotModified(stored: Readonly<Record<string, readonly string[]>>, notModified: readonly string[]): StoredHeaders {
  const update = storeHeaders(notModified, NOT_UPDATED)
  const replaced = new Set(Object.keys(update.headers).map((name) => name.toLowerCase()))
  const merged: string[] = []
  for (const [name, values] of Object.entries(stored)) {
    if (replaced.has(name.toLowerCase())) continue
    for (const value of values) merged.push(name, value)
  }
  for (const [name, values] of Object.entries(update.headers)) for (const value of values) merged.push(name, value)
  return storeHeaders(merged)
}

/** Does an ETag list (If-None-Match) match `etag`, by weak comparison (RFC 9110 13.1.2)? */
export function matchesEtag(list: string, etag: string): boolean {
  const opaque = etag.startsWith('W/') ? etag.slice(2) : etag
  for (const raw of list.split(',')) {
    const tag = raw.trim()
    if (tag === '*' || (tag.startsWith('W/') ? tag.slice(2) : tag) === opaque) return true
  }
  return false
}

/**
 * Would a client's conditional GET get a 304 from `entry` (RFC 9110 13.2.2)? If-None-Match
 * decides when present; otherwise If-Modified-Since against Last-Modified.
 */
export function isNotModified(
  ifNoneMatch: string | undefined,
  ifModifiedSince: string | undefined,
  entry: Pick<CacheEntry, 'etag' | 'lastModified'>,
): boolean {
  if (ifNoneMatch !== undefined) return entry.etag !== undefined && matchesEtag(ifNoneMatch, entry.etag)
  if (ifModifiedSince === undefined || entry.lastModified === undefined) return false
  const since = Date.parse(ifModifiedSince)
  const modified = Date.parse(entry.lastModified)
  return !Number.isNaN(since) && !Number.isNaN(modified) && modified <= since
}

import { getFlatHeader } from './flat-headers.ts'
import type { ResponseHead } from './types.ts'

/** Statuses a shared cache may store on a default TTL (RFC 9110 15.1, "heuristically cacheable"), less 204/405/414/501. */
const CACHEABLE_STATUS = new Set([200, 203, 300, 301, 308, 404, 410])

/** What the cache plugin needs to decide about one response. */
export interface CachePolicyLimits {
  defaultTtlMs: number
  maxTtlMs: number
  /** Lower-case request header names the key varies on. */
  vary: ReadonlySet<string>
}

/** The Cache-Control directives of a header value, lower-case names ("max-age" -> "60"). */
export function parseCacheControl(value: string | undefined): Map<string, string> {
  const out = new Map<string, string>()
  if (value === undefined) return out
  for (const part of value.split(',')) {
    const eq = part.indexOf('=')
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase()
    if (name !== '')
      out.set(
        name,
        eq < 0
          ? ''
          : part
              .slice(eq + 1)
              .trim()
              .replace(/^"|"$/g, ''),
      )
  }
  return out
}

const seconds = (value: string | undefined): number | undefined => (value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined)

/**
 * How long (ms) a shared cache may serve `head` as fresh, from now; 0 when it must not be
 * stored: no-store, private, no-cache, Set-Cookie, Vary on "*" or on a header not in the key,
 * a status not cacheable by default without explicit freshness, or a request with
 * Authorization that the response does not mark public/s-maxage/must-revalidate.
 */
export function freshnessMs(head: ResponseHead, hasAuthorization: boolean, limits: CachePolicyLimits, now: number): number {
  const { headers } = head
  const cc = parseCacheControl(getFlatHeader(headers, 'cache-control'))
  if (cc.has('no-store') || cc.has('private') || cc.has('no-cache')) return 0
  if (getFlatHeader(headers, 'set-cookie') !== undefined) return 0
  const vary = getFlatHeader(headers, 'vary')
  if (vary !== undefined) {
    for (const name of vary.split(',')) {
      const lower = name.trim().toLowerCase()
      if (lower !== '' && (lower === '*' || !limits.vary.has(lower))) return 0
    }
  }
  if (hasAuthorization && !cc.has('public') && !cc.has('s-maxage') && !cc.has('must-revalidate')) return 0
  let lifetimeS = seconds(cc.get('s-maxage')) ?? seconds(cc.get('max-age'))
  if (lifetimeS === undefined) {
    const expires = getFlatHeader(headers, 'expires')
    if (expires !== undefined) {
      const at = Date.parse(expires)
      const date = Date.parse(getFlatHeader(headers, 'date') ?? '')
      // An invalid Expires means "already expired" (RFC 9111 5.3).
      lifetimeS = Number.isNaN(at) ? 0 : Math.max(0, (at - (Number.isNaN(date) ? now : date)) / 1000)
    }
  }
  if (lifetimeS === undefined) {
    if (!CACHEABLE_STATUS.has(head.status)) return 0
    return Math.min(limits.defaultTtlMs, limits.maxTtlMs)
  }
  const age = seconds(getFlatHeader(headers, 'age')) ?? 0
  return Math.max(0, Math.min((lifetimeS - age) * 1000, limits.maxTtlMs))
}

/** How long past its freshness a stored response may be served stale (RFC 5861), in ms. */
export interface StaleWindows {
  whileRevalidateMs: number
  ifErrorMs: number
}

/**
 * The stale windows of `head`: its `stale-while-revalidate` / `stale-if-error` directives, else
 * the configured defaults; none when it says must-revalidate, proxy-revalidate or s-maxage
 * (a shared cache must not serve those stale, RFC 9111 5.2.2.2, 5.2.2.8, 5.2.2.10).
 */
export function staleWindows(head: ResponseHead, defaults: StaleWindows): StaleWindows {
  const cc = parseCacheControl(getFlatHeader(head.headers, 'cache-control'))
  if (cc.has('must-revalidate') || cc.has('proxy-revalidate') || cc.has('s-maxage')) return { whileRevalidateMs: 0, ifErrorMs: 0 }
  const swr = seconds(cc.get('stale-while-revalidate'))
  const sie = seconds(cc.get('stale-if-error'))
  return {
    whileRevalidateMs: swr === undefined ? defaults.whileRevalidateMs : swr * 1000,
    ifErrorMs: sie === undefined ? defaults.ifErrorMs : sie * 1000,
  }
}

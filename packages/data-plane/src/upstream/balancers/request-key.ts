import type { BalanceRequest } from '../types.ts'
import { hash32 } from './hash-ring.ts'

/** Hash of a request's balancing key, or -1 when the request has no such key. */
export type RequestKeyHash = (req: BalanceRequest) => number

/** Where a hash balancer takes its key: the client IP (`ip_hash`) or `hash:SOURCE:NAME`. */
export type KeySource = { source: 'ip' } | { source: 'header' | 'cookie' | 'query'; name: string }

/**
 * The key hasher for a key source. Header names arrive lower-cased (parseAlgorithm). The cookie and
 * query names are turned into search prefixes once here; per request the value is found
 * in the raw header or query string and hashed in place, without a substring.
 */
export function createRequestKeyHash(key: KeySource): RequestKeyHash {
  if (key.source === 'ip') return (req) => (req.clientIp === '' ? -1 : hash32(req.clientIp))
  const { source, name } = key
  if (source === 'header') {
    return (req) => {
      const raw = req.headers[name]
      const value = typeof raw === 'string' ? raw : raw?.[0]
      return value === undefined || value === '' ? -1 : hash32(value)
    }
  }
  const prefix = `${name}=`
  if (source === 'cookie') {
    return (req) => {
      const cookie = req.headers.cookie
      return cookie === undefined ? -1 : hashPairValue(cookie, prefix, ';', isCookieBoundary)
    }
  }
  return (req) => hashPairValue(req.query, prefix, '&', isQueryBoundary)
}

const isCookieBoundary = (code: number) => code === 0x3b /* ; */ || code === 0x20 /* space */
const isQueryBoundary = (code: number) => code === 0x26 /* & */

/** Hash of the value after the first `prefix` that starts a pair in `text`; -1 when absent or empty. */
function hashPairValue(text: string, prefix: string, separator: string, isBoundary: (code: number) => boolean): number {
  let from = 0
  for (;;) {
    const at = text.indexOf(prefix, from)
    if (at === -1) return -1
    if (at === 0 || isBoundary(text.charCodeAt(at - 1))) {
      const start = at + prefix.length
      let end = text.indexOf(separator, start)
      if (end === -1) end = text.length
      return end === start ? -1 : hash32(text, start, end)
    }
    from = at + 1
  }
}

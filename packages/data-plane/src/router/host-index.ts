import type { HostPattern } from '@fleetgate/schema'

/**
 * Buckets keyed by host pattern: exact names in a Map, "*.suffix" wildcards in a Map
 * found by walking the request host's dot-suffixes, "~regex" hosts in a short list, and
 * one bucket for locations without `host`.
 */
export interface HostIndex<B> {
  /** The bucket for a pattern (undefined = any host), created on first use. */
  bucketFor(pattern: HostPattern | undefined): B
  /**
   * Writes the buckets matching `host` into `out` in precedence order (exact, wildcards
   * longest suffix first, regex hosts in config order, any host) and returns how many.
   * `out` must have room for `maxBuckets()` entries; nothing is allocated but suffix keys.
   */
  collect(host: string, out: B[]): number
  /** The most buckets one host can match. */
  maxBuckets(): number
}

/** Creates an empty host index whose buckets come from `createBucket`. */
export function createHostIndex<B>(createBucket: () => B): HostIndex<B> {
  const exact = new Map<string, B>()
  const wildcard = new Map<string, B>()
  const regexes: { regex: RegExp; bucket: B }[] = []
  const any = createBucket()
  let longestSuffix = 0
  const getOrCreate = (map: Map<string, B>, key: string): B => {
    let bucket = map.get(key)
    if (bucket === undefined) {
      bucket = createBucket()
      map.set(key, bucket)
    }
    return bucket
  }
  return {
    bucketFor(pattern) {
      if (pattern === undefined) return any
      if (pattern.kind === 'exact') return getOrCreate(exact, pattern.host)
      if (pattern.kind === 'wildcard') {
        longestSuffix = Math.max(longestSuffix, pattern.suffix.length)
        return getOrCreate(wildcard, pattern.suffix)
      }
      const known = regexes.find((r) => r.regex.source === pattern.regex.source)
      if (known !== undefined) return known.bucket
      const bucket = createBucket()
      regexes.push({ regex: pattern.regex, bucket })
      return bucket
    },
    collect(host, out) {
      let n = 0
      const own = exact.get(host)
      if (own !== undefined) out[n++] = own
      if (wildcard.size > 0) n = collectWildcards(wildcard, longestSuffix, host, out, n)
      for (let i = 0; i < regexes.length; i++) {
        const r = regexes[i] as { regex: RegExp; bucket: B }
        if (r.regex.test(host)) out[n++] = r.bucket
      }
      out[n++] = any
      return n
    },
    maxBuckets: () => 2 + wildcard.size + regexes.length,
  }
}

/**
 * Looks up ".b.example.com", then ".example.com", ... for "a.b.example.com": a suffix
 * always follows a non-empty label, so "*.example.com" never matches "example.com".
 */
function collectWildcards<B>(wildcard: Map<string, B>, longest: number, host: string, out: B[], n: number): number {
  for (let dot = host.indexOf('.', 1); dot > 0; dot = host.indexOf('.', dot + 1)) {
    if (host.length - dot > longest) continue
    const bucket = wildcard.get(host.slice(dot))
    if (bucket !== undefined) out[n++] = bucket
  }
  return n
}

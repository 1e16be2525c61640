/** The answer of one take from a bucket. */
export interface TakeResult {
  allowed: boolean
  /** Whole tokens left after this take. */
  remaining: number
  /** Seconds until the bucket is full again. */
  resetS: number
  /** Seconds until the next token (0 when allowed). */
  retryAfterS: number
}

/** Token buckets by key: `rate` tokens per second, up to `burst`; at most `maxKeys` buckets. */
export interface TokenBuckets {
  take(key: string, nowMs: number): TakeResult
  /** Drops buckets that have refilled completely (they hold no information). */
  sweep(nowMs: number): void
  readonly size: number
}

interface Bucket {
  tokens: number
  at: number
}

/** Creates an empty set of token buckets. */
export function createTokenBuckets(rate: number, burst: number, maxKeys: number): TokenBuckets {
  const buckets = new Map<string, Bucket>()
  const refill = (b: Bucket, now: number) => {
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * rate)
    b.at = now
  }
  return {
    take(key, now) {
      let b = buckets.get(key)
      if (b === undefined) {
        // Past the cap the oldest key goes (Map keeps insertion order): it gets a full bucket back, never less.
        if (buckets.size >= maxKeys) buckets.delete(buckets.keys().next().value as string)
        b = { tokens: burst, at: now }
        buckets.set(key, b)
      } else refill(b, now)
      const allowed = b.tokens >= 1
      if (allowed) b.tokens -= 1
      return {
        allowed,
        remaining: Math.floor(b.tokens),
        resetS: Math.ceil((burst - b.tokens) / rate),
        retryAfterS: allowed ? 0 : Math.max(1, Math.ceil((1 - b.tokens) / rate)),
      }
    },
    sweep(now) {
      for (const [key, b] of buckets) {
        refill(b, now)
        if (b.tokens >= burst) buckets.delete(key)
      }
    },
    get size() {
      return buckets.size
    },
  }
}

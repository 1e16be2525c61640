/** One stored response. */
export interface CacheEntry {
  /** host + path + query, for purges and invalidation. */
  readonly url: string
  readonly status: number
  /** The response headers as stored (names as the upstream sent them). */
  readonly headers: Readonly<Record<string, string[]>>
  readonly body: Buffer
  /** Validators for revalidation (If-None-Match, If-Modified-Since). */
  readonly etag: string | undefined
  readonly lastModified: string | undefined
  /** Date.now() when stored (or last revalidated), and when it stops being fresh. */
  readonly storedAt: number
  readonly expiresAt: number
  /** How long past expiresAt it may be served while a revalidation is under way, or when the upstream fails. */
  readonly staleWhileRevalidateMs: number
  readonly staleIfErrorMs: number
  /** When a stale entry is dropped: it is kept past expiresAt for revalidation and the stale windows. */
  readonly keepUntil: number
  /** Age (seconds) the response already had when stored. */
  readonly initialAge: number
  /** Bytes counted against max_size. */
  readonly size: number
}

/** Is `entry` fresh at `now`? */
export function isFresh(entry: CacheEntry, now: number): boolean {
  return entry.expiresAt > now
}

/**
 * An LRU map of cache entries bounded in total bytes: a lookup moves an entry to the young end,
 * a store evicts from the old end until it fits. Stale entries stay (for revalidation) until
 * their keepUntil, then are dropped on lookup and by sweep(). Entries are also indexed by URL, so a purge or an invalidation finds every variant.
 */
export class ResponseCache {
  readonly #maxSize: number
  readonly #entries = new Map<string, CacheEntry>()
  readonly #byUrl = new Map<string, Set<string>>()
  #size = 0

  constructor(maxSize: number) {
    this.#maxSize = maxSize
  }

  /** Bytes held. */
  get size(): number {
    return this.#size
  }

  /** The entry under `key`, fresh or stale (see isFresh), or undefined (one past its keepUntil is dropped). */
  get(key: string, now: number): CacheEntry | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    this.#entries.delete(key)
    if (entry.keepUntil <= now) {
      this.#forget(key, entry)
      return undefined
    }
    this.#entries.set(key, entry)
    return entry
  }

  /** Stores `entry` under `key` (replacing any), evicting the least recently used past max_size. */
  set(key: string, entry: CacheEntry): void {
    if (entry.size > this.#maxSize) return
    this.delete(key)
    while (this.#size + entry.size > this.#maxSize) {
      const oldest = this.#entries.entries().next().value as [string, CacheEntry]
      this.delete(oldest[0])
    }
    this.#entries.set(key, entry)
    this.#size += entry.size
    let keys = this.#byUrl.get(entry.url)
    if (keys === undefined) {
      keys = new Set()
      this.#byUrl.set(entry.url, keys)
    }
    keys.add(key)
  }

  delete(key: string): void {
    const entry = this.#entries.get(key)
    if (entry === undefined) return
    this.#entries.delete(key)
    this.#forget(key, entry)
  }

  /** Drops every variant of `url`; returns how many entries went. */
  deleteUrl(url: string): number {
    const keys = this.#byUrl.get(url)
    if (keys === undefined) return 0
    const count = keys.size
    for (const key of [...keys]) this.delete(key)
    return count
  }

  /** Drops every entry whose URL starts with `prefix`; returns how many went. */
  deletePrefix(prefix: string): number {
    let count = 0
    for (const url of [...this.#byUrl.keys()]) if (url.startsWith(prefix)) count += this.deleteUrl(url)
    return count
  }

  /** Drops entries past their keepUntil. */
  sweep(now: number): void {
    for (const [key, entry] of [...this.#entries]) if (entry.keepUntil <= now) this.delete(key)
  }

  #forget(key: string, entry: CacheEntry): void {
    this.#size -= entry.size
    const keys = this.#byUrl.get(entry.url)
    keys?.delete(key)
    if (keys?.size === 0) this.#byUrl.delete(entry.url)
  }
}

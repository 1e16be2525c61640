/** One fetch in flight for a cache key: the request that leads it settles it. */
export interface PendingFetch {
  readonly key: string
  readonly settled: Promise<void>
  readonly settle: () => void
}

/**
 * Request coalescing for a cache: the first miss for a key leads (goes upstream), later misses
 * for the same key wait until the leader settles (its response stored, or found uncacheable,
 * or the request ended), at most a bounded time, and then look the key up again.
 */
export class MissCoalescer {
  readonly #pending = new Map<string, PendingFetch>()

  /** Makes the caller the leader for `key`; undefined when a fetch for it is already in flight. */
  lead(key: string): PendingFetch | undefined {
    if (this.#pending.has(key)) return undefined
    let resolve: () => void = () => {}
    const settled = new Promise<void>((r) => {
      resolve = r
    })
    const pending: PendingFetch = {
      key,
      settled,
      settle: () => {
        if (this.#pending.get(key) === pending) this.#pending.delete(key)
        resolve()
      },
    }
    this.#pending.set(key, pending)
    return pending
  }

  /** Is a fetch for `key` in flight? */
  isPending(key: string): boolean {
    return this.#pending.has(key)
  }

  /** Resolves when the fetch in flight for `key` settles, or after `timeoutMs`, whichever is first. */
  wait(key: string, timeoutMs: number): Promise<void> {
    const pending = this.#pending.get(key)
    if (pending === undefined) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs)
      pending.settled.then(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  /** How many keys have a fetch in flight. */
  get size(): number {
    return this.#pending.size
  }
}

/** Limits on failed authentication attempts per client address. */
export interface AuthFailureLimits {
  /** Failures allowed in one window; the next request from that address gets 429. Default 10. */
  max: number
  /** Window length in ms, counted from the first failure. Default 60 s. */
  windowMs: number
}

/** Default: 10 wrong tokens a minute per client address. */
export const DEFAULT_AUTH_FAILURE_LIMITS: AuthFailureLimits = { max: 10, windowMs: 60_000 }

/** Addresses tracked at most; past this, expired windows are swept and then the oldest dropped. */
const MAX_TRACKED = 10_000

interface Window {
  startedAt: number
  failures: number
}

/**
 * Counts wrong tokens per client address in fixed windows, so a token cannot be guessed by brute
 * force. A blocked address is refused before its token is even checked: otherwise an attacker could
 * still tell a right guess (200) from a wrong one (429).
 */
export class AuthFailureLimiter {
  readonly #limits: AuthFailureLimits
  readonly #now: () => number
  readonly #windows = new Map<string, Window>()

  constructor(limits: AuthFailureLimits = DEFAULT_AUTH_FAILURE_LIMITS, now: () => number = Date.now) {
    this.#limits = limits
    this.#now = now
  }

  /** Seconds until `address` may try again (for Retry-After), or 0 when it is not blocked. */
  blockedFor(address: string): number {
    const window = this.#live(address)
    if (window === undefined || window.failures < this.#limits.max) return 0
    return Math.max(1, Math.ceil((window.startedAt + this.#limits.windowMs - this.#now()) / 1000))
  }

  /** Records one failed attempt from `address`. */
  fail(address: string): void {
    const window = this.#live(address)
    if (window) {
      window.failures++
      return
    }
    if (this.#windows.size >= MAX_TRACKED) this.#evict()
    this.#windows.set(address, { startedAt: this.#now(), failures: 1 })
  }

  #live(address: string): Window | undefined {
    const window = this.#windows.get(address)
    if (window && this.#now() - window.startedAt >= this.#limits.windowMs) {
      this.#windows.delete(address)
      return undefined
    }
    return window
  }

  #evict(): void {
    const now = this.#now()
    for (const [address, window] of this.#windows) {
      if (now - window.startedAt >= this.#limits.windowMs) this.#windows.delete(address)
    }
    // Map order is insertion order: the first entry is the oldest window.
    if (this.#windows.size >= MAX_TRACKED) this.#windows.delete(this.#windows.keys().next().value as string)
  }
}

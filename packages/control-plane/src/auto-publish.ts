import { storeKeys } from '@fleetgate/schema'
import type { Store, StoreWatch } from '@fleetgate/store'

/** How edits of `desired/` made behind the API (etcdctl) get published. */
export interface AutoPublishOptions {
  /** Quiet time after the last edit before publishing, so a burst of etcdctl puts publishes once. */
  debounceMs: number
  /** Longest an edit waits while edits keep coming. */
  maxDelayMs: number
  /** Publishes `desired/` (held, invalid or unchanged trees included: it decides). */
  publish: () => Promise<void>
  /** The highest `desired/` revision a publish attempt already read: events up to it need nothing. */
  coveredRevision: () => number
  onError: (err: unknown) => void
}

/** A running auto-publisher. */
export interface AutoPublisher {
  close(): Promise<void>
}

const FIRST_RETRY_MS = 500
const MAX_RETRY_MS = 10_000

/**
 * Watches `desired/` and publishes after a debounce; also once at start (edits made while no control
 * plane ran) and after every resync (continuity lost: re-read and publish if needed). A failed attempt
 * (store down) is retried with backoff until one succeeds or a newer edit reschedules it.
 */
export function startAutoPublish(store: Store, options: AutoPublishOptions): AutoPublisher {
  return new DebouncedPublisher(store, options)
}

class DebouncedPublisher implements AutoPublisher {
  readonly #options: AutoPublishOptions
  readonly #watch: StoreWatch
  #closed = false
  #timer: NodeJS.Timeout | undefined
  #firstPendingAt = 0
  #running: Promise<void> | undefined
  #rerun = false
  #retryMs = FIRST_RETRY_MS

  constructor(store: Store, options: AutoPublishOptions) {
    this.#options = options
    this.#watch = store.watch(
      storeKeys.desiredPrefix,
      { prefix: true },
      {
        onEvents: (events) => {
          if (events.some((e) => e.modRevision > options.coveredRevision())) this.#schedule()
        },
        onResync: () => this.#schedule(),
        onError: options.onError,
      },
    )
    this.#schedule()
  }

  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#timer)
    await this.#watch.close()
    await this.#running
  }

  /** Debounces: each edit pushes the publish back, but never past `maxDelayMs` after the first one. */
  #schedule(): void {
    if (this.#closed) return
    const now = Date.now()
    if (this.#timer === undefined) this.#firstPendingAt = now
    this.#arm(Math.max(0, Math.min(this.#options.debounceMs, this.#firstPendingAt + this.#options.maxDelayMs - now)))
  }

  #arm(delayMs: number): void {
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => this.#fire(), delayMs)
  }

  /** One attempt at a time; edits arriving meanwhile schedule another after it. */
  #fire(): void {
    this.#timer = undefined
    if (this.#closed) return
    if (this.#running) {
      this.#rerun = true
      return
    }
    this.#running = this.#attempt().finally(() => {
      this.#running = undefined
      if (this.#rerun) {
        this.#rerun = false
        this.#schedule()
      }
    })
  }

  async #attempt(): Promise<void> {
    try {
      await this.#options.publish()
      this.#retryMs = FIRST_RETRY_MS
    } catch (err) {
      if (this.#closed) return
      this.#options.onError(err)
      if (this.#timer === undefined) this.#arm(this.#retryMs)
      this.#retryMs = Math.min(MAX_RETRY_MS, this.#retryMs * 2)
    }
  }
}

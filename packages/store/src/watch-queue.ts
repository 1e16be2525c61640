import type { StoreEvent, WatchHandler } from './store.ts'

/**
 * Feeds a {@link WatchHandler} one call at a time, in the order calls were queued, and stops once closed.
 * Both store implementations deliver through it so their ordering rules cannot drift apart.
 */
export class WatchQueue {
  readonly #handler: WatchHandler
  #tail: Promise<void> = Promise.resolve()
  #closed = false

  constructor(handler: WatchHandler) {
    this.#handler = handler
  }

  get closed(): boolean {
    return this.#closed
  }

  /** Queues a batch of events (an empty batch is dropped). */
  events(events: StoreEvent[]): void {
    if (events.length > 0) void this.#push(() => this.#handler.onEvents(events))
  }

  /** Queues a resync; resolves once the handler has finished it (or the queue closed first). */
  resync(): Promise<void> {
    return this.#push(() => this.#handler.onResync())
  }

  /** No handler call starts after this. It does not wait for a running one, so a handler may call it. */
  close(): void {
    this.#closed = true
  }

  #push(call: () => void | Promise<void>): Promise<void> {
    const run = this.#tail.then(async () => {
      if (this.#closed) return
      try {
        await call()
      } catch (err) {
        this.#report(err)
      }
    })
    this.#tail = run
    return run
  }

  #report(err: unknown): void {
    if (this.#handler.onError) this.#handler.onError(err)
    else
      setImmediate(() => {
        throw err
      })
  }
}

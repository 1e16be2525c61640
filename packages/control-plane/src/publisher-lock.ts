import { storeKeys } from '@fleetgate/schema'
import type { Store } from '@fleetgate/store'

/** Runs work as the one active publisher. */
export interface PublisherLock {
  /**
   * Runs `fn` after every earlier call of this process finished and while holding `control/publisher`
   * in the store, so one control plane at a time writes changesets and publishes. `signal` aborts if
   * the lock's lease is lost; correctness still rests on the txn compares, this only avoids wasted work.
   */
  run<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T>
  /** Resolves when every call made so far has finished. */
  idle(): Promise<void>
}

/** Creates the lock runner; `ttlSeconds` bounds how long a crashed holder blocks the others. */
export function createPublisherLock(store: Store, ttlSeconds: number): PublisherLock {
  let tail: Promise<unknown> = Promise.resolve()
  return {
    run<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
      const next = tail.then(async () => {
        const lock = await store.lock(storeKeys.publisherLock, ttlSeconds)
        try {
          return await fn(lock.signal)
        } finally {
          await lock.release().catch(() => {})
        }
      })
      // The chain only orders calls; each caller sees its own outcome.
      tail = next.catch(() => {})
      return next
    },
    idle: () => tail.then(() => {}),
  }
}

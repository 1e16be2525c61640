import type { Store, StoreLease, StoreLock } from './store.ts'
import { StoreError } from './store-error.ts'

/**
 * Takes `key` as a lock: one txn puts it only if it does not exist (create == 0), attached to a fresh
 * lease; otherwise waits for the holder's key to be deleted (release or lease expiry) and tries again.
 * Written once against the {@link Store} interface so both implementations lock the same way.
 */
export async function acquireLock(store: Store, key: string, ttlSeconds: number, opts: { signal?: AbortSignal } = {}): Promise<StoreLock> {
  const lease = await store.lease(ttlSeconds)
  try {
    for (;;) {
      opts.signal?.throwIfAborted()
      const res = await store.txn({
        compares: [{ key, target: 'create', op: '==', value: 0 }],
        success: [{ type: 'put', key, value: lease.id, lease: lease.id }],
      })
      if (res.succeeded) return heldLock(key, res.revision, lease)
      await waitUntilDeleted(store, key, opts.signal)
    }
  } catch (err) {
    await lease.revoke().catch(() => {})
    throw err
  }
}

function heldLock(key: string, revision: number, lease: StoreLease): StoreLock {
  const held = new AbortController()
  // The lock key is not put through the lease, so a re-grant never re-takes a lock someone else may hold now.
  lease.on('lost', (err) => {
    held.abort(new StoreError('LEASE_NOT_FOUND', `lock ${key} lost with its lease`, { cause: err }))
    void lease.revoke().catch(() => {})
  })
  return {
    key,
    revision,
    signal: held.signal,
    async release() {
      held.abort(new StoreError('CLOSED', `lock ${key} released`))
      await lease.revoke()
    },
  }
}

/** Resolves once `key` is absent (or the watch had to resync, which makes the caller re-check). */
async function waitUntilDeleted(store: Store, key: string, signal?: AbortSignal): Promise<void> {
  const current = await store.get(key)
  if (!current) return
  signal?.throwIfAborted()
  const { promise, resolve, reject } = Promise.withResolvers<void>()
  const onAbort = () => reject(signal?.reason)
  signal?.addEventListener('abort', onAbort, { once: true })
  const watch = store.watch(
    key,
    { fromRevision: current.modRevision + 1 },
    {
      onEvents: (events) => {
        if (events.some((e) => e.type === 'delete')) resolve()
      },
      onResync: () => resolve(),
    },
  )
  try {
    await promise
  } finally {
    signal?.removeEventListener('abort', onAbort)
    await watch.close()
  }
}

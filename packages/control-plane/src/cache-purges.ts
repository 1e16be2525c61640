import { randomBytes } from 'node:crypto'
import { CACHE_PURGE_TTL_SECONDS, type CachePurgeRecord, type CachePurgeTarget, cachePurgeId, storeKeys } from '@fleetgate/schema'
import type { Store } from '@fleetgate/store'

/** Fleet-wide cache purges: records under `purge/` that every data plane applies once. */
export interface CachePurges {
  /** Writes a purge record under a lease of CACHE_PURGE_TTL_SECONDS; resolves with the record. */
  submit(plugin: string | null, target: CachePurgeTarget): Promise<CachePurgeRecord>
}

/**
 * Purges over `store`. Each record gets its own lease, released at once (not kept alive), so it
 * vanishes by itself after the TTL: watching nodes see the put, and nothing needs cleaning up.
 */
export function createCachePurges(store: Store): CachePurges {
  return {
    async submit(plugin, target) {
      const now = Date.now()
      const record: CachePurgeRecord = {
        id: cachePurgeId(now, randomBytes(6).toString('hex')),
        plugin,
        target,
        at: new Date(now).toISOString(),
      }
      const lease = await store.lease(CACHE_PURGE_TTL_SECONDS)
      try {
        await store.put(storeKeys.purge(record.id), JSON.stringify(record), { lease: lease.id })
      } finally {
        lease.release()
      }
      return record
    },
  }
}

import { type CachePurgeRecord, decodeCachePurgeRecord, storeKeys } from '@fleetgate/schema/runtime'
import type { Store, StoreEvent, StoreWatch } from '@fleetgate/store'
import type { Logger } from 'pino'
import type { Gateway } from '../gateway.ts'

/** Options of {@link startCachePurgeSync}. */
export interface CachePurgeSyncOptions {
  store: Store
  gateway: Gateway
  logger: Logger
}

/** The running watch of `purge/`. */
export interface CachePurgeSync {
  stop(): Promise<void>
}

/** How long an applied id is remembered: past the records' lease, so a resync never applies one twice. */
const REMEMBER_MS = 5 * 60_000

/**
 * Applies the fleet's cache purges (`purge/<id>`, written by the admin API) to this node: each
 * record once, to the current snapshot's cache instances (the one it names, or all), through
 * their `purge` capability. Records present at start are skipped (this node's caches are newer
 * than them); after a lost watch the prefix is re-read and records not yet applied are applied.
 */
export async function startCachePurgeSync(o: CachePurgeSyncOptions): Promise<CachePurgeSync> {
  const applied = new Map<string, number>()
  let watch: StoreWatch | undefined
  let stopped = false
  const remember = (id: string) => {
    const now = Date.now()
    applied.set(id, now)
    for (const [old, at] of applied) {
      if (now - at < REMEMBER_MS) break
      applied.delete(old)
    }
  }
  const take = (key: string, value: Buffer) => {
    const record = decodeCachePurgeRecord(value.toString('utf8'))
    if (record === undefined) {
      o.logger.warn({ key }, 'ignoring a malformed cache purge record')
      return
    }
    if (applied.has(record.id)) return
    remember(record.id)
    applyCachePurge(o.gateway, record, o.logger)
  }
  const read = async (applyExisting: boolean): Promise<number> => {
    const { kvs, revision } = await o.store.getPrefix(storeKeys.purgePrefix)
    for (const kv of kvs) {
      if (applyExisting) take(kv.key, kv.value)
      else remember(decodeCachePurgeRecord(kv.value.toString('utf8'))?.id ?? kv.key)
    }
    return revision
  }
  const start = (revision: number | undefined) => {
    watch = o.store.watch(storeKeys.purgePrefix, revision === undefined ? { prefix: true } : { prefix: true, fromRevision: revision + 1 }, {
      onEvents: (events: StoreEvent[]) => {
        for (const ev of events) if (ev.type === 'put') take(ev.key, ev.value)
      },
      onResync: async () => {
        if (stopped) return
        await read(true).catch((err: unknown) => o.logger.warn({ err }, 'cannot re-read cache purges'))
      },
      onError: (err) => o.logger.error({ err }, 'cache purge watch handler failed'),
    })
  }
  let revision: number | undefined
  try {
    revision = await read(false)
  } catch (err) {
    // The store is down at start: watch from now on (the watch resyncs once it can).
    o.logger.warn({ err }, 'cannot read cache purges; watching from now on')
  }
  start(revision)
  return {
    async stop() {
      stopped = true
      await watch?.close()
    },
  }
}

/** Applies one purge to the current snapshot's instances that can purge; logs what went. */
export function applyCachePurge(gateway: Gateway, record: CachePurgeRecord, logger: Logger): number {
  const snap = gateway.current
  let purged = 0
  let instances = 0
  for (const instance of snap?.plugins.values() ?? []) {
    const purge = instance.capabilities?.purge
    if (purge === undefined || (record.plugin !== null && record.plugin !== instance.name)) continue
    instances++
    purged += purge(record.target)
  }
  logger.info({ purge: record.id, plugin: record.plugin, target: record.target, instances, purged }, 'cache purge applied')
  return purged
}

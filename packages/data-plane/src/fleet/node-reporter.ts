import { randomUUID } from 'node:crypto'
import type { NodeFigures, NodeStatus } from '@fleetgate/schema'
import { storeKeys } from '@fleetgate/schema/runtime'
import type { Store, StoreLease } from '@fleetgate/store'
import type { Logger } from 'pino'
import { gatewayVersion } from './gateway-version.ts'
import { backoffDelay, jittered } from './retry-timing.ts'
import type { StoreConnection } from './store-connection.ts'

/** Options of {@link startNodeReporter}. */
export interface NodeReporterOptions {
  store: Store
  nodeId: string
  address: string | null
  logger: Logger
  connection: StoreConnection
  leaseTtlSeconds: number
  /** How often the value is rewritten even when nothing changed (updatedAt shows the node is alive). */
  heartbeatMs: number
  /** The node's key figures, read before each write (absent: the value carries none). */
  figures?: () => NodeFigures
}

/** The fields of a node's status that change while it runs. */
export type NodeStatusChange = Partial<Pick<NodeStatus, 'applied' | 'rejected' | 'source'>>

/** Keeps `nodes/<id>` up to date under the node's own lease. */
export interface NodeReporter {
  /** What this node reports, with etcdConnected as seen locally now. */
  status(): NodeStatus
  /** Merges `change` and writes the value soon (writes never overlap; the newest value wins). */
  update(change: NodeStatusChange): void
  /** Stops writing and revokes the lease, so `nodes/<id>` disappears now rather than after the TTL. */
  stop(): Promise<void>
}

const REVOKE_WAIT_MS = 3000
const FIRST_RETRY_MS = 500
const MAX_RETRY_MS = 10_000

/**
 * Starts reporting: grants the lease (retrying in the background while the store is down, never
 * blocking serving) and puts the status on change and on every heartbeat. When the store loses the
 * lease it re-grants and re-puts the last value given to `put`; that is always the newest, and a fresh
 * write follows the re-grant so `updatedAt` is current.
 */
export function startNodeReporter(o: NodeReporterOptions): NodeReporter {
  const key = storeKeys.node(o.nodeId)
  const startedAt = new Date().toISOString()
  const status: NodeStatus = {
    id: o.nodeId,
    bootId: randomUUID(),
    address: o.address,
    version: gatewayVersion(),
    startedAt,
    applied: null,
    rejected: null,
    source: null,
    etcdConnected: false,
    updatedAt: startedAt,
  }
  let lease: StoreLease | undefined
  let dirty = true
  let writing = false
  let stopped = false
  let failures = 0
  let timer: NodeJS.Timeout | undefined

  const later = (ms: number) => {
    clearTimeout(timer)
    timer = setTimeout(() => {
      dirty = true
      void flush()
    }, ms)
  }

  async function obtainLease(): Promise<StoreLease> {
    if (lease) return lease
    const granted = await o.store.lease(o.leaseTtlSeconds)
    if (stopped) {
      await granted.revoke().catch(() => granted.release())
      throw new Error('node reporter stopped')
    }
    granted.on('lost', (err) => o.logger.warn({ err: err.message }, 'node lease lost: re-registering when the store answers'))
    granted.on('regranted', () => {
      o.logger.info({ node: o.nodeId }, 'node lease re-granted')
      dirty = true
      void flush()
    })
    lease = granted
    return granted
  }

  async function flush(): Promise<void> {
    if (writing || stopped) return
    writing = true
    try {
      while (dirty && !stopped) {
        dirty = false
        status.updatedAt = new Date().toISOString()
        if (o.figures) status.figures = o.figures()
        const current = await obtainLease()
        // A value that reaches the store was written while connected, whatever the local view says.
        await current.put(key, JSON.stringify({ ...status, etcdConnected: true }))
        failures = 0
        o.connection.ok()
      }
      if (!stopped) later(jittered(o.heartbeatMs))
    } catch (err) {
      if (stopped) return
      dirty = true
      o.connection.failed(err)
      later(backoffDelay(failures++, FIRST_RETRY_MS, Math.min(MAX_RETRY_MS, o.heartbeatMs)))
    } finally {
      writing = false
    }
  }

  // A pending write goes out as soon as anything else finds the store reachable again.
  o.connection.onChange((connected) => {
    if (connected && dirty) void flush()
  })
  void flush()

  return {
    status: () => ({ ...status, etcdConnected: o.connection.connected }),
    update(change) {
      Object.assign(status, change)
      dirty = true
      void flush()
    },
    async stop() {
      stopped = true
      clearTimeout(timer)
      const current = lease
      if (current === undefined) return
      let wait: NodeJS.Timeout | undefined
      const timeout = new Promise<never>((_, reject) => {
        wait = setTimeout(() => reject(new Error('lease revoke timed out')), REVOKE_WAIT_MS)
      })
      try {
        await Promise.race([current.revoke(), timeout])
      } catch (err) {
        // The store is unreachable: stop the keep-alives so the key expires after its TTL.
        o.logger.warn({ err: (err as Error).message }, 'could not revoke the node lease; it expires on its own')
        current.release()
      } finally {
        clearTimeout(wait)
      }
    },
  }
}

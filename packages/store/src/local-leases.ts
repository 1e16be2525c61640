import { randomBytes } from 'node:crypto'
import type { LeaseGrant } from './regranting-lease.ts'
import { StoreError } from './store-error.ts'

interface LocalLease {
  id: string
  ttlMs: number
  expiresAt: number
  keepAlive: boolean
  keys: Set<string>
  timer: NodeJS.Timeout
  lostListeners: Array<(err: Error) => void>
}

/** Deletes, in one commit, those of `keys` still attached to lease `id`. Called when it expires or is revoked. */
export type DeleteLeaseKeys = (id: string, keys: string[]) => Promise<void>

/**
 * Leases of the local store, emulated with timers the way etcd runs them: a lease expires `ttl` after its
 * last keep-alive, keep-alives run every ttl / 3, and a keep-alive that comes too late (the event loop was
 * blocked longer than the TTL) finds the lease expired rather than reviving it. Leases live only as long
 * as the process: keys left attached to one from an earlier run are deleted when the folder is opened.
 */
export class LocalLeases {
  readonly #leases = new Map<string, LocalLease>()
  readonly #deleteKeys: DeleteLeaseKeys

  constructor(deleteKeys: DeleteLeaseKeys) {
    this.#deleteKeys = deleteKeys
  }

  has(id: string): boolean {
    return this.#leases.has(id)
  }

  /** Records that `key` is attached to lease `id` (or detached from it). */
  attach(key: string, id: string): void {
    this.#leases.get(id)?.keys.add(key)
  }

  detach(key: string, id: string): void {
    this.#leases.get(id)?.keys.delete(key)
  }

  grant(ttlSeconds: number): LeaseGrant {
    if (!(ttlSeconds >= 1)) throw new StoreError('INVALID', `lease TTL must be at least 1 second, got ${ttlSeconds}`)
    const ttlMs = ttlSeconds * 1000
    const id = BigInt(`0x${randomBytes(7).toString('hex')}`).toString()
    const lease: LocalLease = {
      id,
      ttlMs,
      expiresAt: Date.now() + ttlMs,
      keepAlive: true,
      keys: new Set(),
      lostListeners: [],
      timer: undefined as never,
    }
    lease.timer = setInterval(() => this.#tick(lease), Math.max(ttlMs / 3, 50)).unref()
    this.#leases.set(id, lease)
    return {
      id,
      onLost: (listener) => void lease.lostListeners.push(listener),
      revoke: async () => {
        if (this.#end(lease)) await this.#deleteKeys(lease.id, [...lease.keys])
      },
      release: () => {
        lease.keepAlive = false
      },
    }
  }

  /** Stops every lease's timer; their keys stay until the folder is opened again. */
  close(): void {
    for (const lease of this.#leases.values()) this.#end(lease)
  }

  #tick(lease: LocalLease): void {
    const now = Date.now()
    if (now > lease.expiresAt) void this.#expire(lease)
    else if (lease.keepAlive) lease.expiresAt = now + lease.ttlMs
  }

  async #expire(lease: LocalLease): Promise<void> {
    if (!this.#end(lease)) return
    await this.#deleteKeys(lease.id, [...lease.keys]).catch(() => {})
    if (!lease.keepAlive) return
    const err = new StoreError('LEASE_NOT_FOUND', `lease ${lease.id} expired: it was not kept alive for ${lease.ttlMs} ms`)
    for (const listener of lease.lostListeners) listener(err)
  }

  /** Forgets the lease; false if it was already gone. */
  #end(lease: LocalLease): boolean {
    clearInterval(lease.timer)
    return this.#leases.delete(lease.id)
  }
}

import { EventEmitter } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import type { DeleteResult, StoreLease, StoreLeaseEvents, ValueInput, WriteResult } from './store.ts'
import { isStoreError, StoreError } from './store-error.ts'

/** One lease as a backend granted it. */
export interface LeaseGrant {
  readonly id: string
  /** Registers `listener` for when the backend finds the lease gone (expired, revoked, unreachable too long). */
  onLost(listener: (err: Error) => void): void
  revoke(): Promise<void>
  /** Stops keep-alives; the lease then expires on its own. */
  release(): void
}

/** What a store implementation provides for {@link createRegrantingLease}. */
export interface LeaseBackend {
  grant(ttlSeconds: number): Promise<LeaseGrant>
  put(key: string, value: ValueInput, opts: { lease: string }): Promise<WriteResult>
  delete(key: string): Promise<DeleteResult>
}

const FIRST_RETRY_MS = 100
const MAX_RETRY_MS = 3000

/**
 * Grants a lease that survives losing it: when the backend reports it lost, a new one is granted (retrying
 * with backoff until the store answers) and every key put through it is put again. etcd3 leaves this to
 * the application, and forgetting it leaves a node invisible until restart.
 */
export async function createRegrantingLease(backend: LeaseBackend, ttlSeconds: number): Promise<StoreLease> {
  const grant = await backend.grant(ttlSeconds)
  return new RegrantingLease(backend, ttlSeconds, grant)
}

class RegrantingLease extends EventEmitter<StoreLeaseEvents> implements StoreLease {
  readonly ttlSeconds: number
  readonly #backend: LeaseBackend
  readonly #keys = new Map<string, ValueInput>()
  readonly #ended = new AbortController()
  #grant: LeaseGrant
  #ready: Promise<void> = Promise.resolve()

  constructor(backend: LeaseBackend, ttlSeconds: number, grant: LeaseGrant) {
    super()
    this.#backend = backend
    this.ttlSeconds = ttlSeconds
    this.#grant = grant
    this.#watchLoss(grant)
  }

  get id(): string {
    return this.#grant.id
  }

  async put(key: string, value: ValueInput): Promise<WriteResult> {
    this.#keys.set(key, value)
    for (;;) {
      await this.#ready
      if (this.#ended.signal.aborted) throw new StoreError('LEASE_NOT_FOUND', 'the lease was revoked or released')
      const grant = this.#grant
      try {
        return await this.#backend.put(key, value, { lease: grant.id })
      } catch (err) {
        if (!isStoreError(err, 'LEASE_NOT_FOUND')) throw err
        this.#lose(grant, err)
      }
    }
  }

  async delete(key: string): Promise<DeleteResult> {
    this.#keys.delete(key)
    return await this.#backend.delete(key)
  }

  async revoke(): Promise<void> {
    this.#end()
    try {
      await this.#grant.revoke()
    } catch (err) {
      if (!isStoreError(err, 'LEASE_NOT_FOUND')) throw err
    }
  }

  release(): void {
    this.#end()
    this.#grant.release()
  }

  #end(): void {
    this.#keys.clear()
    this.#ended.abort()
  }

  #watchLoss(grant: LeaseGrant): void {
    grant.onLost((err) => this.#lose(grant, err))
  }

  /** Starts one re-grant per lost grant; losses reported for an older grant are ignored. */
  #lose(grant: LeaseGrant, err: Error): void {
    if (grant !== this.#grant || this.#ended.signal.aborted) return
    this.#grant = lostGrant(grant)
    this.emit('lost', err)
    this.#ready = this.#regrant()
  }

  async #regrant(): Promise<void> {
    let delay = FIRST_RETRY_MS
    while (!this.#ended.signal.aborted) {
      let grant: LeaseGrant | undefined
      try {
        grant = await this.#backend.grant(this.ttlSeconds)
        for (const [key, value] of this.#keys) await this.#backend.put(key, value, { lease: grant.id })
      } catch {
        grant?.release()
        await sleep(delay, undefined, { signal: this.#ended.signal }).catch(() => {})
        delay = Math.min(delay * 2, MAX_RETRY_MS)
        continue
      }
      if (this.#ended.signal.aborted) {
        await grant.revoke().catch(() => {})
        return
      }
      this.#grant = grant
      this.#watchLoss(grant)
      this.emit('regranted', grant.id)
      return
    }
  }
}

/** Stands in for a lost grant until the new one exists, so `id` stays readable and revoke is harmless. */
function lostGrant(grant: LeaseGrant): LeaseGrant {
  return { id: grant.id, onLost() {}, revoke: async () => {}, release() {} }
}

import { type Change, type Entry, LocalFiles } from './local-files.ts'
import { History } from './local-history.ts'
import { LocalLeases } from './local-leases.ts'
import { checkTxn, compareKeys, comparesHold, planOps } from './local-txn.ts'
import { acquireLock } from './lock.ts'
import { createRegrantingLease, type LeaseBackend } from './regranting-lease.ts'
import type {
  Compare,
  DeleteResult,
  KeyValue,
  Op,
  PrefixRead,
  Store,
  StoredValue,
  StoreEvent,
  StoreLease,
  StoreLock,
  StoreWatch,
  TxnRequest,
  TxnResult,
  ValueInput,
  WatchHandler,
  WatchOptions,
  WriteResult,
} from './store.ts'
import { StoreError } from './store-error.ts'
import { WatchQueue } from './watch-queue.ts'

/** Options for {@link createLocalStore}. */
export interface LocalStoreOptions {
  /** The folder holding the store; created if missing. One process owns it at a time. */
  dir: string
  /** Most revisions of history kept in memory for pinned reads and watches from the past. Default 1000. */
  maxHistoryRevisions?: number
  /** Most bytes of superseded values kept in that history. Default 64 MiB. */
  maxHistoryBytes?: number
}

/**
 * Opens the embedded {@link Store}: no etcd, one folder on disk (layout in local-files.ts). The whole
 * keyspace is held in memory and every write is durable before it is visible; writes are serialized
 * in-process, watches are delivered in-process, and leases run on timers (local-leases.ts).
 */
export async function createLocalStore(opts: LocalStoreOptions): Promise<Store> {
  const loaded = await LocalFiles.open(opts.dir)
  const history = new History(loaded.revision, {
    maxRevisions: opts.maxHistoryRevisions ?? 1000,
    maxBytes: opts.maxHistoryBytes ?? 64 * 1024 * 1024,
  })
  const store = new LocalStore(loaded.files, loaded.entries, loaded.revision, history)
  try {
    await store.dropStaleLeaseKeys()
  } catch (err) {
    await store.close()
    throw err
  }
  return store
}

interface LocalWatcher {
  matches(key: string): boolean
  queue: WatchQueue
}

/** What one serialized write did. */
interface Applied {
  succeeded: boolean
  revision: number
  changes: Change[]
}

class LocalStore implements Store {
  readonly #files: LocalFiles
  readonly #entries: Map<string, Entry>
  readonly #history: History
  readonly #watchers = new Set<LocalWatcher>()
  readonly #leases = new LocalLeases((id, keys) => this.#deleteLeaseKeys(id, keys))
  readonly #grants = new Set<StoreLease>()
  readonly #leaseBackend: LeaseBackend = {
    grant: async (ttl) => this.#leases.grant(ttl),
    put: (key, value, o) => this.put(key, value, o),
    delete: (key) => this.delete(key),
  }
  #revision: number
  #tail: Promise<unknown> = Promise.resolve()
  #failure: StoreError | undefined
  #closed = false

  constructor(files: LocalFiles, entries: Map<string, Entry>, revision: number, history: History) {
    this.#files = files
    this.#entries = entries
    this.#revision = revision
    this.#history = history
  }

  async get(key: string): Promise<StoredValue | undefined> {
    this.#checkOpen()
    const e = this.#entries.get(key)
    return e && { value: e.value, createRevision: e.createRevision, modRevision: e.modRevision }
  }

  async getPrefix(prefix: string, o: { revision?: number } = {}): Promise<PrefixRead> {
    this.#checkOpen()
    return { kvs: this.#readPrefix(prefix, o.revision), revision: o.revision ?? this.#revision }
  }

  async put(key: string, value: ValueInput, o: { lease?: string } = {}): Promise<WriteResult> {
    return { revision: (await this.#write([], [{ type: 'put', key, value, lease: o.lease }])).revision }
  }

  async delete(key: string): Promise<DeleteResult> {
    const applied = await this.#write([], [{ type: 'delete', key }])
    return { revision: applied.revision, deleted: applied.changes.length }
  }

  async deletePrefix(prefix: string): Promise<DeleteResult> {
    const applied = await this.#write([], [{ type: 'delete', key: prefix, prefix: true }])
    return { revision: applied.revision, deleted: applied.changes.length }
  }

  async txn(req: TxnRequest): Promise<TxnResult> {
    const applied = await this.#write(req.compares, req.success, req.failure)
    return { succeeded: applied.succeeded, revision: applied.revision }
  }

  watch(key: string, o: WatchOptions, handler: WatchHandler): StoreWatch {
    this.#checkOpen()
    const w: LocalWatcher = { matches: o.prefix ? (k) => k.startsWith(key) : (k) => k === key, queue: new WatchQueue(handler) }
    // Replay and registration happen in one synchronous step, so no commit can fall between them.
    if (o.fromRevision !== undefined && o.fromRevision <= this.#revision) {
      if (!this.#history.canWatchFrom(o.fromRevision)) void w.queue.resync()
      else for (const r of this.#history.since(o.fromRevision)) w.queue.events(eventsFor(w, r.revision, r.changes))
    }
    this.#watchers.add(w)
    return {
      close: async () => {
        this.#watchers.delete(w)
        w.queue.close()
      },
    }
  }

  async lease(ttlSeconds: number): Promise<StoreLease> {
    this.#checkOpen()
    const lease = await createRegrantingLease(this.#leaseBackend, ttlSeconds)
    this.#grants.add(lease)
    return lease
  }

  lock(key: string, ttlSeconds: number, o?: { signal?: AbortSignal }): Promise<StoreLock> {
    return acquireLock(this, key, ttlSeconds, o)
  }

  async compact(revision: number): Promise<void> {
    this.#checkOpen()
    if (revision > this.#revision)
      throw new StoreError('FUTURE_REVISION', `cannot compact to future revision ${revision} (current ${this.#revision})`)
    this.#history.compact(revision)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const w of this.#watchers) w.queue.close()
    this.#watchers.clear()
    for (const lease of this.#grants) lease.release()
    this.#leases.close()
    await this.#tail
    await this.#files.close()
  }

  /** Keys attached to leases of an earlier process: those leases are gone, so their keys go too (one revision). */
  async dropStaleLeaseKeys(): Promise<void> {
    const changes: Change[] = []
    for (const [key, prev] of this.#entries) if (prev.lease) changes.push({ key, prev, next: undefined })
    if (changes.length > 0) await this.#exclusive(() => this.#commit(changes))
  }

  #checkOpen(): void {
    if (this.#closed) throw new StoreError('CLOSED', 'the local store is closed')
  }

  /** Runs writes one at a time; after a failed commit the store refuses writes until reopened. */
  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(() => {
      if (this.#failure) throw this.#failure
      return work()
    })
    this.#tail = run.catch(() => {})
    return run
  }

  async #write(compares: Compare[], success: Op[], failure: Op[] = []): Promise<Applied> {
    this.#checkOpen()
    checkTxn({ compares, success, failure })
    return await this.#exclusive(async () => {
      const succeeded = comparesHold(compares, this.#entries)
      const changes = planOps(succeeded ? success : failure, this.#entries, this.#revision + 1, (id) => this.#leases.has(id))
      return { succeeded, revision: changes.length > 0 ? await this.#commit(changes) : this.#revision, changes }
    })
  }

  async #deleteLeaseKeys(id: string, keys: string[]): Promise<void> {
    await this.#exclusive(async () => {
      const changes: Change[] = []
      for (const key of keys) {
        const prev = this.#entries.get(key)
        if (prev?.lease === id) changes.push({ key, prev, next: undefined })
      }
      if (changes.length > 0) await this.#commit(changes)
    })
  }

  /** Makes `changes` durable as the next revision, then visible: memory, history, watchers. */
  async #commit(changes: Change[]): Promise<number> {
    const revision = this.#revision + 1
    try {
      await this.#files.commit(revision, changes)
    } catch (err) {
      this.#failure = new StoreError('UNAVAILABLE', `local store commit failed; reopen the store: ${(err as Error).message}`, {
        cause: err,
      })
      throw this.#failure
    }
    for (const { key, prev, next } of changes) {
      if (prev?.lease) this.#leases.detach(key, prev.lease)
      if (next) this.#entries.set(key, next)
      else this.#entries.delete(key)
      if (next?.lease) this.#leases.attach(key, next.lease)
    }
    this.#revision = revision
    this.#history.record({ revision, changes })
    for (const w of this.#watchers) w.queue.events(eventsFor(w, revision, changes))
    return revision
  }

  #readPrefix(prefix: string, at: number | undefined): KeyValue[] {
    const inRange = (key: string) => key.startsWith(prefix)
    if (at !== undefined && at > this.#revision) throw new StoreError('FUTURE_REVISION', `required revision ${at} is a future revision`)
    if (at !== undefined && at < this.#revision && !this.#history.canRead(at))
      throw new StoreError('COMPACTED', `required revision ${at} has been compacted`)
    const state = at === undefined || at === this.#revision ? this.#entries : this.#history.readAt(this.#entries, inRange, at)
    const kvs: KeyValue[] = []
    for (const [key, e] of state)
      if (inRange(key)) kvs.push({ key, value: e.value, createRevision: e.createRevision, modRevision: e.modRevision })
    return kvs.sort((a, b) => compareKeys(a.key, b.key))
  }
}

function eventsFor(w: LocalWatcher, revision: number, changes: Change[]): StoreEvent[] {
  return changes
    .filter((c) => w.matches(c.key))
    .map((c) => ({ type: c.next ? 'put' : 'delete', key: c.key, value: c.next?.value ?? Buffer.alloc(0), modRevision: revision }))
}

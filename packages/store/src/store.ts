/**
 * The config store the control plane and the data plane's fleet sync talk to: a small, etcd-shaped
 * key-value API (revisions, transactions, watches, leases) with two implementations, etcd
 * (`createEtcdStore`) and a local folder (`createLocalStore`), that pass one contract test suite.
 *
 * Keys are strings relative to the store's prefix (for example `current` under `/fleetgate/<cluster>/`).
 * Values are bytes. Every revision is a store-wide counter that only goes up; all changes made by one
 * call share one revision.
 *
 * Size rule: keep each write request (keys + values of one put or txn) under {@link MAX_REQUEST_BYTES}.
 * Callers chunk big values (the publisher writes blobs of at most 512 KiB); a bigger request fails with
 * code TOO_LARGE on both implementations.
 */

/** etcd's default `--max-request-bytes`; the local store enforces the same limit so code behaves alike. */
export const MAX_REQUEST_BYTES = 1.5 * 1024 * 1024

/** etcd's default `--max-txn-ops`: the most compares, and the most ops per branch, in one txn. */
export const MAX_TXN_OPS = 128

/** One key as read at some revision. */
export interface KeyValue {
  key: string
  value: Buffer
  /** Revision that created the key (since its last deletion). */
  createRevision: number
  /** Revision of the key's last change. */
  modRevision: number
}

/** What `get` returns for an existing key. */
export type StoredValue = Omit<KeyValue, 'key'>

/** The result of a prefix read: keys in byte order, all as of `revision`. */
export interface PrefixRead {
  kvs: KeyValue[]
  revision: number
}

/** A value to write: bytes, or a string written as UTF-8. */
export type ValueInput = Buffer | string

/** One write inside a txn. A key may be written at most once per branch. */
export type Op = { type: 'put'; key: string; value: ValueInput; lease?: string } | { type: 'delete'; key: string; prefix?: boolean }

/**
 * A txn guard on one key. `mod` and `create` compare revisions (0 when the key is absent, so
 * `create == 0` means "absent"); `value` compares bytes and is always false for an absent key.
 */
export interface Compare {
  key: string
  target: 'mod' | 'create' | 'value'
  op: '==' | '!=' | '>' | '<'
  value: number | ValueInput
}

/** If every compare holds, run `success`, else `failure`; atomically, in one revision. */
export interface TxnRequest {
  compares: Compare[]
  success: Op[]
  failure?: Op[]
}

/** Which branch ran, and the store revision after the txn. */
export interface TxnResult {
  succeeded: boolean
  revision: number
}

/** The revision a write produced (the current revision for a write that changed nothing). */
export interface WriteResult {
  revision: number
}

/** A write that removed keys. */
export interface DeleteResult extends WriteResult {
  deleted: number
}

/** A change seen by a watch. A delete carries an empty value; `modRevision` is the deletion's revision. */
export interface StoreEvent {
  type: 'put' | 'delete'
  key: string
  value: Buffer
  modRevision: number
}

/**
 * The consumer side of a watch. Calls never overlap and come in revision order: a returned promise is
 * awaited before the next call.
 */
export interface WatchHandler {
  /** Events in revision order; one call never splits a revision. */
  onEvents(events: StoreEvent[]): void | Promise<void>
  /**
   * Continuity was lost (history compacted, the watch cancelled, the store restored or wiped, or any
   * doubt): re-read what you derive from the watched keys. Events after this call follow the read;
   * some may repeat changes the read already showed (compare `modRevision`).
   */
  onResync(): void | Promise<void>
  /** A handler threw; without this the error is rethrown asynchronously (a bug should be loud). */
  onError?(err: unknown): void
}

/** Options for {@link Store.watch}. */
export interface WatchOptions {
  /** Watch every key starting with the given string. */
  prefix?: boolean
  /** First revision to deliver (usually a read's `revision + 1`); default: changes from now on. */
  fromRevision?: number
}

/** A running watch. */
export interface StoreWatch {
  /** Stops delivery; no handler call starts after the promise resolves. */
  close(): Promise<void>
}

/** Events of a {@link StoreLease}. */
export interface StoreLeaseEvents {
  /** The lease expired or was revoked behind our back; its keys are gone and a new lease is being granted. */
  lost: [err: Error]
  /** A new lease is granted and every key put through this lease is written again. */
  regranted: [id: string]
}

/**
 * A TTL lease kept alive in the background. Keys put through it vanish when it is revoked or expires.
 * If the store reports it lost, a new lease is granted and every key put through `put` is put again.
 */
export interface StoreLease {
  /** The current lease id (changes after a re-grant). */
  readonly id: string
  readonly ttlSeconds: number
  /** Puts `key` attached to the lease and remembers it so it is put again after a re-grant. */
  put(key: string, value: ValueInput): Promise<WriteResult>
  /** Deletes `key` and stops re-putting it. */
  delete(key: string): Promise<DeleteResult>
  /** Ends the lease now: its keys are deleted. */
  revoke(): Promise<void>
  /** Stops keeping the lease alive (no re-grant): its keys vanish when the TTL runs out. */
  release(): void
  on<E extends keyof StoreLeaseEvents>(event: E, listener: (...args: StoreLeaseEvents[E]) => void): this
  off<E extends keyof StoreLeaseEvents>(event: E, listener: (...args: StoreLeaseEvents[E]) => void): this
}

/**
 * A held mutual-exclusion lock. It is held while its lease lives; `signal` aborts when the lease is
 * lost, after which the holder must stop acting as the owner. Use it to keep one worker busy at a
 * time; correctness of writes still rests on txn compares.
 */
export interface StoreLock {
  readonly key: string
  /** Revision at which the lock was taken (a fencing token). */
  readonly revision: number
  readonly signal: AbortSignal
  release(): Promise<void>
}

/** The config store. See the file comment for keys, revisions and the size rule. */
export interface Store {
  get(key: string): Promise<StoredValue | undefined>
  /** Every key starting with `prefix` ('' = all), at `revision` if given (COMPACTED when it is gone). */
  getPrefix(prefix: string, opts?: { revision?: number }): Promise<PrefixRead>
  put(key: string, value: ValueInput, opts?: { lease?: string }): Promise<WriteResult>
  delete(key: string): Promise<DeleteResult>
  deletePrefix(prefix: string): Promise<DeleteResult>
  txn(req: TxnRequest): Promise<TxnResult>
  /** Watches one key, or every key under a prefix; see {@link WatchHandler} for the delivery rules. */
  watch(key: string, opts: WatchOptions, handler: WatchHandler): StoreWatch
  /** Grants a lease of `ttlSeconds` (at least 1; etcd may round small TTLs up). */
  lease(ttlSeconds: number): Promise<StoreLease>
  /** Waits until `key` is free and takes it as a lock held by a lease of `ttlSeconds`. */
  lock(key: string, ttlSeconds: number, opts?: { signal?: AbortSignal }): Promise<StoreLock>
  /** Drops history before `revision`: later reads or watches from older revisions get COMPACTED / a resync. */
  compact(revision: number): Promise<void>
  /** Stops watches and lease keep-alives (leased keys then expire) and releases connections or files. */
  close(): Promise<void>
}

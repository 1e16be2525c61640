import { type Etcd3, type ICompare, type IKeyValue, type IRequestOp, type Namespace, Range } from 'etcd3'
import { createEtcdClient, type EtcdClientOptions, etcdCall, toStoreError } from './etcd-client.ts'
import { watchEtcd } from './etcd-watch.ts'
import { acquireLock } from './lock.ts'
import { createRegrantingLease, type LeaseBackend, type LeaseGrant } from './regranting-lease.ts'
import type {
  Compare,
  DeleteResult,
  KeyValue,
  Op,
  PrefixRead,
  Store,
  StoredValue,
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
import { isStoreError } from './store-error.ts'

/** Options for {@link createEtcdStore}. */
export interface EtcdStoreOptions extends EtcdClientOptions {
  /** Prepended to every key, for example `/fleetgate/prod/`. */
  prefix: string
}

/** Keys per page of a prefix read; a page too big to receive is re-read in smaller pages. */
const PAGE_KEYS = 256

const COMPARE_OPS = { '==': 'Equal', '!=': 'NotEqual', '>': 'Greater', '<': 'Less' } as const

/** A {@link Store} on etcd through etcd3, wrapped to avoid the client's pitfalls (see etcd-client.ts, etcd-watch.ts). */
export function createEtcdStore(opts: EtcdStoreOptions): Store {
  return new EtcdStore(opts)
}

class EtcdStore implements Store {
  readonly #client: Etcd3
  readonly #ns: Namespace
  readonly #codec: KeyCodec
  readonly #watches = new Set<StoreWatch>()
  readonly #leases = new Set<StoreLease>()
  readonly #leaseBackend: LeaseBackend = {
    grant: (ttl) => grantLease(this.#client, ttl),
    put: (key, value, o) => this.put(key, value, o),
    delete: (key) => this.delete(key),
  }

  constructor(opts: EtcdStoreOptions) {
    this.#client = createEtcdClient(opts)
    this.#ns = this.#client.namespace(opts.prefix)
    this.#codec = keyCodec(opts.prefix)
  }

  async get(key: string): Promise<StoredValue | undefined> {
    const res = await etcdCall(this.#client.kv.range({ key: this.#codec.full(key) }))
    const kv = res.kvs[0]
    return kv && { value: kv.value, createRevision: Number(kv.create_revision), modRevision: Number(kv.mod_revision) }
  }

  getPrefix(prefix: string, o: { revision?: number } = {}): Promise<PrefixRead> {
    return readPrefix(this.#client, this.#codec, prefix, o.revision)
  }

  async put(key: string, value: ValueInput, o: { lease?: string } = {}): Promise<WriteResult> {
    const res = await etcdCall(this.#client.kv.put({ key: this.#codec.full(key), value: toBuffer(value), lease: o.lease ?? 0 }))
    return { revision: Number(res.header.revision) }
  }

  async delete(key: string): Promise<DeleteResult> {
    const res = await etcdCall(this.#client.kv.deleteRange({ key: this.#codec.full(key) }))
    return { revision: Number(res.header.revision), deleted: Number(res.deleted) }
  }

  async deletePrefix(prefix: string): Promise<DeleteResult> {
    const range = Range.prefix(this.#codec.full(prefix))
    const res = await etcdCall(this.#client.kv.deleteRange({ key: range.start, range_end: range.end }))
    return { revision: Number(res.header.revision), deleted: Number(res.deleted) }
  }

  async txn(req: TxnRequest): Promise<TxnResult> {
    const codec = this.#codec
    const res = await etcdCall(
      this.#client.kv.txn({
        compare: req.compares.map((c) => toCompare(codec, c)),
        success: req.success.map((op) => toRequestOp(codec, op)),
        failure: (req.failure ?? []).map((op) => toRequestOp(codec, op)),
      }),
    )
    return { succeeded: res.succeeded, revision: Number(res.header.revision) }
  }

  watch(key: string, o: WatchOptions, handler: WatchHandler): StoreWatch {
    const watch = watchEtcd(this.#ns, key, o, handler, () => this.#currentRevision())
    this.#watches.add(watch)
    return {
      close: () => {
        this.#watches.delete(watch)
        return watch.close()
      },
    }
  }

  async lease(ttlSeconds: number): Promise<StoreLease> {
    const lease = await createRegrantingLease(this.#leaseBackend, ttlSeconds)
    this.#leases.add(lease)
    return lease
  }

  lock(key: string, ttlSeconds: number, o?: { signal?: AbortSignal }): Promise<StoreLock> {
    return acquireLock(this, key, ttlSeconds, o)
  }

  async compact(revision: number): Promise<void> {
    try {
      await etcdCall(this.#client.kv.compact({ revision }))
    } catch (err) {
      // Already compacted at or past `revision`: the goal is reached.
      if (!isStoreError(err, 'COMPACTED')) throw err
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.#watches].map((w) => w.close()))
    for (const lease of this.#leases) lease.release()
    this.#client.close()
  }

  async #currentRevision(): Promise<number> {
    const all = Range.prefix(this.#codec.full(''))
    const res = await etcdCall(this.#client.kv.range({ key: all.start, range_end: all.end, count_only: true }))
    return Number(res.header.revision)
  }
}

/** Reads a prefix page by page, every page pinned to the first page's revision so the result is one snapshot. */
async function readPrefix(client: Etcd3, codec: KeyCodec, prefix: string, revision: number | undefined): Promise<PrefixRead> {
  const { start: first, end } = Range.prefix(codec.full(prefix))
  const kvs: KeyValue[] = []
  let start = first
  let limit = PAGE_KEYS
  let pinned = revision
  for (;;) {
    let res: Awaited<ReturnType<typeof client.kv.range>>
    try {
      res = await client.kv.range({ key: start, range_end: end, revision: pinned ?? 0, limit })
    } catch (err) {
      const mapped = toStoreError(err)
      // Over the receive limit: deterministic, so re-read this page smaller instead of failing the whole read.
      if (mapped.code === 'TOO_LARGE' && limit > 1) {
        limit = Math.max(1, Math.floor(limit / 4))
        continue
      }
      throw mapped
    }
    pinned ??= Number(res.header.revision)
    for (const kv of res.kvs) kvs.push(toKeyValue(codec, kv))
    const last = res.kvs.at(-1)
    if (!res.more || !last) return { kvs, revision: pinned }
    start = Buffer.concat([last.key, Buffer.from([0])])
  }
}

async function grantLease(client: Etcd3, ttlSeconds: number): Promise<LeaseGrant> {
  const lease = client.lease(ttlSeconds)
  const id = await etcdCall(lease.grant())
  return {
    id,
    onLost: (listener) => lease.on('lost', (err: Error) => listener(toStoreError(err))),
    revoke: () => etcdCall(lease.revoke()),
    release: () => lease.release(),
  }
}

interface KeyCodec {
  full(key: string): Buffer
  relative(full: Buffer): string
}

function keyCodec(prefix: string): KeyCodec {
  const bytes = Buffer.from(prefix)
  return {
    full: (key) => Buffer.concat([bytes, Buffer.from(key)]),
    relative: (full) => full.subarray(bytes.length).toString(),
  }
}

function toKeyValue(codec: KeyCodec, kv: IKeyValue): KeyValue {
  return { key: codec.relative(kv.key), value: kv.value, createRevision: Number(kv.create_revision), modRevision: Number(kv.mod_revision) }
}

function toCompare(codec: KeyCodec, c: Compare): ICompare {
  const base = { key: codec.full(c.key), result: COMPARE_OPS[c.op] }
  if (c.target === 'value') return { ...base, target: 'Value', value: toBuffer(c.value) }
  const revision = Number(c.value)
  return c.target === 'mod' ? { ...base, target: 'Mod', mod_revision: revision } : { ...base, target: 'Create', create_revision: revision }
}

function toRequestOp(codec: KeyCodec, op: Op): IRequestOp {
  const key = codec.full(op.key)
  if (op.type === 'put') return { request_put: { key, value: toBuffer(op.value), lease: op.lease ?? 0 } }
  if (!op.prefix) return { request_delete_range: { key } }
  const range = Range.prefix(key)
  return { request_delete_range: { key: range.start, range_end: range.end } }
}

function toBuffer(value: ValueInput | number): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(String(value))
}

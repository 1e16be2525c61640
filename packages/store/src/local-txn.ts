import type { Change, Entry } from './local-files.ts'
import { type Compare, MAX_REQUEST_BYTES, MAX_TXN_OPS, type Op, type TxnRequest, type ValueInput } from './store.ts'
import { StoreError } from './store-error.ts'

/**
 * Refuses what etcd refuses, so code tried on the local store does not break on etcd: more than 128
 * compares or ops per branch, a request over 1.5 MiB, or a key written twice in one branch.
 */
export function checkTxn(req: TxnRequest): void {
  const branches = [req.success, req.failure ?? []]
  if (req.compares.length > MAX_TXN_OPS || branches.some((b) => b.length > MAX_TXN_OPS)) {
    throw new StoreError('INVALID', `too many operations in txn request (at most ${MAX_TXN_OPS} compares and ops per branch)`)
  }
  let bytes = 0
  for (const c of req.compares) bytes += byteLength(c.key) + (c.target === 'value' ? byteLength(c.value) : 8)
  for (const op of branches.flat()) bytes += byteLength(op.key) + (op.type === 'put' ? byteLength(op.value) : 0)
  if (bytes > MAX_REQUEST_BYTES) throw new StoreError('TOO_LARGE', `request is too large: ${bytes} bytes (limit ${MAX_REQUEST_BYTES})`)
  for (const branch of branches) checkDuplicates(branch)
}

function checkDuplicates(ops: Op[]): void {
  const puts = new Set<string>()
  for (const op of ops) {
    if (op.type !== 'put') continue
    if (puts.has(op.key)) throw new StoreError('INVALID', `duplicate key given in txn request: ${op.key}`)
    puts.add(op.key)
  }
  for (const op of ops) {
    if (op.type === 'delete' && [...puts].some((key) => (op.prefix ? key.startsWith(op.key) : key === op.key))) {
      throw new StoreError('INVALID', `duplicate key given in txn request: ${op.key} is both put and deleted`)
    }
  }
}

/** True if every compare holds against `entries`. */
export function comparesHold(compares: Compare[], entries: Map<string, Entry>): boolean {
  return compares.every((c) => compareHolds(c, entries.get(c.key)))
}

function compareHolds(c: Compare, entry: Entry | undefined): boolean {
  let order: number
  if (c.target === 'value') {
    // As in etcd: a value compare on an absent key is false whatever the operator.
    if (!entry) return false
    order = Buffer.compare(entry.value, toBuffer(c.value))
  } else {
    const actual = c.target === 'mod' ? (entry?.modRevision ?? 0) : (entry?.createRevision ?? 0)
    order = Math.sign(actual - Number(c.value))
  }
  if (c.op === '==') return order === 0
  if (c.op === '!=') return order !== 0
  return c.op === '>' ? order > 0 : order < 0
}

/**
 * The changes `ops` make at `revision`. A delete of an absent key changes nothing (and, as in etcd, a
 * write that changes nothing does not take a revision). A put naming an unknown lease fails the whole txn.
 */
export function planOps(ops: Op[], entries: Map<string, Entry>, revision: number, hasLease: (id: string) => boolean): Change[] {
  const changes: Change[] = []
  const deleted = new Set<string>()
  const remove = (key: string, prev: Entry | undefined) => {
    if (!prev || deleted.has(key)) return
    deleted.add(key)
    changes.push({ key, prev, next: undefined })
  }
  for (const op of ops) {
    if (op.type === 'put') {
      if (op.lease && !hasLease(op.lease)) throw new StoreError('LEASE_NOT_FOUND', `requested lease not found: ${op.lease}`)
      const prev = entries.get(op.key)
      const next: Entry = {
        value: Buffer.from(toBuffer(op.value)),
        createRevision: prev?.createRevision ?? revision,
        modRevision: revision,
      }
      if (op.lease) next.lease = op.lease
      changes.push({ key: op.key, prev, next })
    } else if (op.prefix) {
      for (const [key, prev] of entries) if (key.startsWith(op.key)) remove(key, prev)
    } else {
      remove(op.key, entries.get(op.key))
    }
  }
  return changes
}

/** Sorts keys in byte order, as etcd returns them. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}

function toBuffer(value: ValueInput | number): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(String(value))
}

function byteLength(value: ValueInput | number): number {
  return Buffer.isBuffer(value) ? value.length : Buffer.byteLength(String(value))
}

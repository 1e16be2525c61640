import { canonicalJson, decodeResource, storeKeys } from '@fleetgate/schema'
import { type Compare, MAX_REQUEST_BYTES, MAX_TXN_OPS, type Op, type Store } from '@fleetgate/store'
import type { DesiredTree } from './desired-tree.ts'

/** One write to `desired/`, guarded by the key's state as read (so a concurrent edit fails the txn). */
export interface Change {
  op: Op
  guard: Compare
}

/** Bytes per txn we aim for: under the 1.5 MiB request limit with room for the txn's framing. */
const TXN_BYTE_BUDGET = MAX_REQUEST_BYTES - 64 * 1024

/**
 * The changes that turn `tree` into `target` (full `desired/` entries): puts of keys whose content
 * differs, deletes of keys no longer present. A value that only differs in formatting (JSON against
 * TOML, key order) is left alone.
 */
export function planReplace(tree: DesiredTree, target: ReadonlyArray<{ key: string; value: string }>): Change[] {
  const changes: Change[] = []
  const wanted = new Set<string>()
  for (const { key, value } of target) {
    wanted.add(key)
    const existing = tree.byKey.get(key)
    if (existing && sameContent(key, existing.value.toString('utf8'), value)) continue
    changes.push(putChange(key, value, existing?.modRevision))
  }
  for (const kv of tree.kvs) {
    if (!wanted.has(kv.key)) changes.push(deleteChange(kv.key, kv.modRevision))
  }
  return changes
}

/** A put of `key`, guarded by its mod revision as read (absent: created only if still absent). */
export function putChange(key: string, value: string, modRevision: number | undefined): Change {
  return {
    op: { type: 'put', key, value },
    guard: modRevision === undefined ? { key, target: 'create', op: '==', value: 0 } : { key, target: 'mod', op: '==', value: modRevision },
  }
}

/** A delete of `key`, guarded by its mod revision as read. */
export function deleteChange(key: string, modRevision: number): Change {
  return { op: { type: 'delete', key }, guard: { key, target: 'mod', op: '==', value: modRevision } }
}

function sameContent(key: string, stored: string, next: string): boolean {
  if (stored === next) return true
  const [kind, name] = key.slice(storeKeys.desiredPrefix.length).split('/') as [string, string | undefined]
  try {
    return canonicalJson(decodeResource(stored, kind, name)) === canonicalJson(decodeResource(next, kind, name))
  } catch {
    return false
  }
}

/**
 * Applies `changes` in txns of at most {@link MAX_TXN_OPS} ops and compares and under the request
 * size limit, each with its own guards (plus `extra` compares on the first txn). Resolves false at the
 * first txn whose guards fail; the caller re-reads and re-plans (earlier txns stay applied, which is
 * harmless because nothing publishes while the caller holds the publisher lock). `signal` stops the work
 * when the lock is lost.
 */
export async function applyChanges(
  store: Store,
  changes: readonly Change[],
  extra: Compare[] = [],
  signal?: AbortSignal,
): Promise<boolean> {
  let first = true
  for (const batch of batches(changes, extra.length)) {
    signal?.throwIfAborted()
    const compares = [...(first ? extra : []), ...batch.map((c) => c.guard)]
    const res = await store.txn({ compares, success: batch.map((c) => c.op) })
    if (!res.succeeded) return false
    first = false
  }
  return true
}

function* batches(changes: readonly Change[], reservedOnFirst: number): Generator<Change[]> {
  let batch: Change[] = []
  let bytes = 0
  let room = MAX_TXN_OPS - reservedOnFirst
  for (const change of changes) {
    const size = changeBytes(change)
    if (batch.length > 0 && (batch.length >= room || bytes + size > TXN_BYTE_BUDGET)) {
      yield batch
      batch = []
      bytes = 0
      room = MAX_TXN_OPS
    }
    batch.push(change)
    bytes += size
  }
  if (batch.length > 0) yield batch
}

function changeBytes(change: Change): number {
  const { op } = change
  const value = op.type === 'put' ? Buffer.byteLength(op.value) : 0
  // The key travels twice: once in the op, once in its guard.
  return 2 * Buffer.byteLength(op.key) + value + 32
}

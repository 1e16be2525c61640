import { type ConfigError, generationOfKey, parseHoldGeneration, storeKeys, type VersionManifest } from '@fleetgate/schema'
import { type Compare, MAX_TXN_OPS, type Op, type Store } from '@fleetgate/store'
import { type Head, readHead } from './history.ts'

/** How much history to keep. */
export interface RetentionOptions {
  /** Newest versions kept (the current one and its rollback source are always kept on top). */
  keepVersions: number
  /**
   * Blobs referenced by no manifest (a publish that wrote them but lost its race or crashed) are
   * deleted only once they have been seen unreferenced for this long, so an in-flight publish of
   * another control plane is never robbed of its blobs. Also the least time between such sweeps,
   * which read all of `blobs/`.
   */
  blobGraceMs: number
  now: () => number
}

/** What one pruning run deleted. */
export interface PruneResult {
  /** Readable manifests deleted. */
  versionsDeleted: number
  /** Unreadable (corrupt) manifests deleted, with the problem each had: `{path: key, message}`. */
  unreadableDeleted: ConfigError[]
  blobSetsDeleted: number
}

/** Prunes history; keeps the memory of orphan blobs between runs. */
export interface Retention {
  /** Deletes old manifests (readable or not) and unreferenced blobs. Call it holding the publisher lock. */
  prune(store: Store): Promise<PruneResult>
}

/** Creates the pruning step run after each publish. */
export function createRetention(options: RetentionOptions): Retention {
  /** Unreferenced blob sets and when they were first seen so. */
  const suspects = new Map<string, number>()
  let lastSweep = Number.NEGATIVE_INFINITY
  return {
    async prune(store) {
      const head = await readHead(store)
      const hold = await store.get(storeKeys.hold)
      const heldGen = hold ? parseHoldGeneration(hold.value) : undefined
      const holdGen = heldGen?.ok ? heldGen.value : undefined
      const kept = keptGenerations(head.manifests, head.pointer?.gen, options.keepVersions, holdGen)
      const doomed = head.manifests.filter((m) => !kept.has(m.gen))
      const doomedUnreadable = unreadableBelowWindow(head, options.keepVersions, holdGen)
      const referenced = new Set(head.manifests.filter((m) => kept.has(m.gen)).map((m) => m.sha256))
      if (head.pointer) referenced.add(head.pointer.sha256)
      const unreferenced = new Set(doomed.map((m) => m.sha256).filter((sha) => !referenced.has(sha)))
      // Orphans from failed publishes are found by reading all blobs, so only now and then.
      if (options.now() - lastSweep >= options.blobGraceMs) {
        lastSweep = options.now()
        for (const sha of await sweepOrphans(store, referenced, suspects, options)) unreferenced.add(sha)
      }
      // Every delete is guarded by `current`: a publish in between (which may reference a blob) stops the pruning.
      const guard: Compare = { key: storeKeys.current, target: 'mod', op: '==', value: head.pointerRevision }
      const ops: Op[] = [
        ...doomed.map((m): Op => ({ type: 'delete', key: storeKeys.version(m.gen) })),
        ...doomedUnreadable.map((u): Op => ({ type: 'delete', key: u.path })),
        ...[...unreferenced].map((sha): Op => ({ type: 'delete', key: storeKeys.blobPrefix(sha), prefix: true })),
      ]
      const deleted = new Set<string>()
      for (let i = 0; i < ops.length; i += MAX_TXN_OPS) {
        const batch = ops.slice(i, i + MAX_TXN_OPS)
        const res = await store.txn({ compares: [guard], success: batch })
        if (!res.succeeded) break
        for (const op of batch) deleted.add(op.key)
      }
      for (const sha of unreferenced) suspects.delete(sha)
      const done = (key: string) => deleted.has(key)
      return {
        versionsDeleted: doomed.filter((m) => done(storeKeys.version(m.gen))).length,
        unreadableDeleted: doomedUnreadable.filter((u) => done(u.path)),
        blobSetsDeleted: [...unreferenced].filter((sha) => done(storeKeys.blobPrefix(sha))).length,
      }
    },
  }
}

/** The newest `keep` generations, the current one, its rollback source and the held one. */
function keptGenerations(
  manifests: readonly VersionManifest[],
  current: number | undefined,
  keep: number,
  held: number | undefined,
): Set<number> {
  const kept = new Set(manifests.slice(-Math.max(1, keep)).map((m) => m.gen))
  if (current !== undefined) {
    kept.add(current)
    const source = manifests.find((m) => m.gen === current)?.rollbackOf
    if (source !== null && source !== undefined) kept.add(source)
  }
  if (held !== undefined) kept.add(held)
  return kept
}

/**
 * Unreadable `versions/<gen>` keys older than the retained window (the newest `keep` readable
 * manifests): they can never be read, diffed or rolled back to, and left alone they would pile up
 * forever below it. Those inside the window stay, listed by GET /versions for an operator to look at;
 * the current and the held generation are never deleted, whatever their manifest holds.
 */
function unreadableBelowWindow(head: Head, keep: number, held: number | undefined): ConfigError[] {
  const oldestKept = head.manifests.slice(-Math.max(1, keep))[0]?.gen
  if (oldestKept === undefined) return []
  return head.unreadableVersions.filter((u) => {
    const gen = generationOfKey(u.path)
    return gen !== undefined && gen < oldestKept && gen !== head.pointer?.gen && gen !== held
  })
}

/** Blob sets referenced by nothing and already seen so at least the grace period ago. */
async function sweepOrphans(
  store: Store,
  referenced: Set<string>,
  suspects: Map<string, number>,
  options: RetentionOptions,
): Promise<string[]> {
  const blobs = await store.getPrefix('blobs/')
  const present = new Set(blobs.kvs.map((kv) => kv.key.split('/')[1] as string))
  const ripe: string[] = []
  for (const sha of present) {
    if (referenced.has(sha)) continue
    const since = suspects.get(sha) ?? options.now()
    suspects.set(sha, since)
    if (options.now() - since >= options.blobGraceMs) ripe.push(sha)
  }
  for (const sha of suspects.keys()) if (!present.has(sha) || referenced.has(sha)) suspects.delete(sha)
  return ripe
}

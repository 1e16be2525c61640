import { parseHoldGeneration, storeKeys, type VersionManifest } from '@fleetgate/schema'
import { type Compare, MAX_TXN_OPS, type Op, type Store } from '@fleetgate/store'
import { readHead } from './history.ts'

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

/** Prunes history; keeps the memory of orphan blobs between runs. */
export interface Retention {
  /** Deletes old manifests and unreferenced blobs. Call it holding the publisher lock. */
  prune(store: Store): Promise<{ versionsDeleted: number; blobSetsDeleted: number }>
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
        ...[...unreferenced].map((sha): Op => ({ type: 'delete', key: storeKeys.blobPrefix(sha), prefix: true })),
      ]
      for (let i = 0; i < ops.length; i += MAX_TXN_OPS) {
        const res = await store.txn({ compares: [guard], success: ops.slice(i, i + MAX_TXN_OPS) })
        if (!res.succeeded) break
      }
      for (const sha of unreferenced) suspects.delete(sha)
      return { versionsDeleted: doomed.length, blobSetsDeleted: unreferenced.size }
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

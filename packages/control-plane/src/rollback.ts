import { type HoldRecord, storeKeys, type VersionManifest } from '@fleetgate/schema'
import type { Store } from '@fleetgate/store'
import { replaceTree } from './desired-writes.ts'
import { readHead, readManifest, readVersionConfig } from './history.ts'
import { commitVersion, type PublishOutcome } from './publisher.ts'
import { ServiceError } from './service-types.ts'

const MAX_ATTEMPTS = 5

/**
 * Publishes generation `target`'s content as a new generation (`rollbackOf: target`, reusing its
 * blobs) and, in the same txn, puts `control/hold` so neither API writes nor etcdctl edits get
 * published until a restore or release. When `current` already has that content, only the hold is
 * put. Call it holding the publisher lock.
 */
export async function rollbackTo(store: Store, target: number, author: string, now: () => Date): Promise<PublishOutcome> {
  const source = await readManifest(store, target)
  const hold: HoldRecord = { generation: target, author, at: now().toISOString() }
  const holdOp = { type: 'put', key: storeKeys.hold, value: JSON.stringify(hold) } as const
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const head = await readHead(store)
    if (!(await store.get(storeKeys.blob(source.sha256, source.chunks - 1)))) {
      throw new ServiceError('NOT_FOUND', `content of generation ${target} is missing`)
    }
    if (head.pointer?.sha256 === source.sha256) {
      const res = await store.txn({
        compares: [{ key: storeKeys.current, target: 'mod', op: '==', value: head.pointerRevision }],
        success: [holdOp],
      })
      if (res.succeeded) return { state: 'unchanged', generation: head.pointer.gen, sha256: source.sha256, desiredRevision: 0 }
      continue
    }
    const manifest: VersionManifest = {
      ...source,
      gen: head.nextGen,
      parent: head.parent,
      rollbackOf: target,
      author,
      message: `rollback to generation ${target}`,
      createdAt: now().toISOString(),
    }
    if (await commitVersion(store, head, manifest, { compares: [], ops: [holdOp] }, now)) {
      return { state: 'published', generation: manifest.gen, sha256: manifest.sha256, desiredRevision: 0 }
    }
  }
  throw new ServiceError('CONFLICT', `rollback lost the race for "current" ${MAX_ATTEMPTS} times; try again`)
}

/**
 * Writes generation `target`'s config back into `desired/` (as a changeset: only what differs). The
 * caller then publishes with the hold released. Call it holding the publisher lock.
 */
export async function restoreDesired(store: Store, target: number, signal?: AbortSignal): Promise<void> {
  const config = await readVersionConfig(store, await readManifest(store, target))
  await replaceTree(store, config, undefined, signal)
}

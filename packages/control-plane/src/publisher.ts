import {
  type Config,
  type ConfigError,
  encodeConfigBlob,
  type PublishRecord,
  parsePublishRecord,
  storeKeys,
  type VersionManifest,
  validateConfig,
} from '@fleetgate/schema'
import type { Compare, Op, Store } from '@fleetgate/store'
import { type DesiredTree, readDesired } from './desired-tree.ts'
import { type Head, readHead } from './history.ts'
import { ServiceError } from './service-types.ts'

/** What a publish attempt did. `desiredRevision` is the revision `desired/` was read at. */
export type PublishOutcome =
  | { state: 'published' | 'unchanged'; generation: number; sha256: string; desiredRevision: number }
  | { state: 'held'; generation: number; sha256: string }
  | { state: 'rejected'; errors: ConfigError[]; generation: number | null; desiredRevision: number }
  /** An empty `desired/` seen by the watch before anything was ever published: nothing to do. */
  | { state: 'idle'; desiredRevision: number }

/** Who publishes and how the hold is treated. */
export interface PublishRequest {
  author: string
  message: string
  /** Auto-publish and API writes: publish nothing while `control/hold` exists. */
  respectHold: boolean
  /** Restore and release: delete `control/hold` with this publish. */
  releaseHold: boolean
  /**
   * Whether an empty `desired/` may be published. Only explicit actions allow it: a watch event for a
   * wiped prefix must not turn into "remove every route" on the whole fleet.
   */
  allowEmpty: boolean
}

const EMPTY_TREE: ConfigError = {
  path: '',
  message: 'desired/ is empty: not published from an etcd edit (publish an empty config through the admin API if that is meant)',
}

/** Losing the final compare-and-swap this often in a row (under the lock) means something else is wrong. */
const MAX_ATTEMPTS = 5

/**
 * Publishes `desired/`: reads it at one revision, validates it, and unless it is invalid or equal
 * to `current`, writes its blobs and then, in one txn guarded by `current`'s mod revision, the next
 * manifest and `current`. An invalid tree is recorded in `control/publish` and not published. A lost
 * race starts over on fresh data. An unreadable `current` counts as absent (the publish replaces it) and
 * unreadable manifests are skipped. Call it holding the publisher lock.
 */
export async function publishDesired(store: Store, req: PublishRequest, now: () => Date): Promise<PublishOutcome> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const outcome = await attemptPublish(store, req, now)
    if (outcome) return outcome
  }
  throw new ServiceError('CONFLICT', `publish lost the race for "current" ${MAX_ATTEMPTS} times; try again`)
}

/** One try; undefined when the final compare-and-swap lost a race. */
async function attemptPublish(store: Store, req: PublishRequest, now: () => Date): Promise<PublishOutcome | undefined> {
  if (req.respectHold && (await store.get(storeKeys.hold))) {
    const head = await readHead(store)
    return { state: 'held', generation: head.pointer?.gen ?? 0, sha256: head.pointer?.sha256 ?? '' }
  }
  const [tree, head] = await Promise.all([readDesired(store), readHead(store)])
  const desiredRevision = tree.revision
  if (tree.kvs.length === 0 && !req.allowEmpty && !head.pointer) return { state: 'idle', desiredRevision }
  const checked = checkTree(tree, req)
  if (!checked.ok) {
    const generation = head.pointer?.gen ?? null
    await store.put(storeKeys.publishStatus, JSON.stringify(record('rejected', checked.errors, generation, now)))
    return { state: 'rejected', errors: checked.errors, generation, desiredRevision }
  }
  const blob = encodeConfigBlob(checked.config)
  if (head.pointer?.sha256 === blob.sha256) {
    await settleUnchanged(store, head.pointer.gen, req.releaseHold, now)
    return { state: 'unchanged', generation: head.pointer.gen, sha256: blob.sha256, desiredRevision }
  }
  await writeBlobs(store, blob.sha256, blob.chunks)
  const manifest: VersionManifest = {
    gen: head.nextGen,
    parent: head.parent,
    rollbackOf: null,
    author: req.author,
    message: req.message,
    createdAt: now().toISOString(),
    sha256: blob.sha256,
    size: blob.size,
    chunks: blob.chunks.length,
    encoding: 'json+gzip',
  }
  const compares: Compare[] = req.respectHold ? [{ key: storeKeys.hold, target: 'create', op: '==', value: 0 }] : []
  const ops: Op[] = req.releaseHold ? [{ type: 'delete', key: storeKeys.hold }] : []
  if (!(await commitVersion(store, head, manifest, { compares, ops }, now))) return undefined
  return { state: 'published', generation: manifest.gen, sha256: manifest.sha256, desiredRevision }
}

/** Validates an assembled tree; undecodable keys, and emptiness where not allowed, are errors too. */
function checkTree(tree: DesiredTree, req: PublishRequest): { ok: true; config: Config } | { ok: false; errors: ConfigError[] } {
  const validated = validateConfig(tree.config)
  const errors = [
    ...(tree.kvs.length === 0 && !req.allowEmpty ? [EMPTY_TREE] : []),
    ...tree.errors,
    ...(validated.ok ? [] : validated.errors),
  ]
  if (errors.length > 0 || !validated.ok) return { ok: false, errors: errors.sort((a, b) => a.path.localeCompare(b.path)) }
  return { ok: true, config: validated.config }
}

/**
 * The final step of every publish: one txn that puts the manifest, `current` and an ok
 * `control/publish`, only if `current` is unchanged since `head` was read, the generation is new
 * and the blobs are (still) there. False when a compare failed.
 */
export async function commitVersion(
  store: Store,
  head: Head,
  manifest: VersionManifest,
  extra: { compares: Compare[]; ops: Op[] },
  now: () => Date,
): Promise<boolean> {
  const res = await store.txn({
    compares: [
      { key: storeKeys.current, target: 'mod', op: '==', value: head.pointerRevision },
      { key: storeKeys.version(manifest.gen), target: 'create', op: '==', value: 0 },
      // Blobs are written before this txn and garbage-collected by others: refuse to point at deleted ones.
      { key: storeKeys.blob(manifest.sha256, manifest.chunks - 1), target: 'create', op: '>', value: 0 },
      ...extra.compares,
    ],
    success: [
      { type: 'put', key: storeKeys.version(manifest.gen), value: JSON.stringify(manifest) },
      { type: 'put', key: storeKeys.current, value: JSON.stringify({ gen: manifest.gen, sha256: manifest.sha256 }) },
      { type: 'put', key: storeKeys.publishStatus, value: JSON.stringify(record('ok', [], manifest.gen, now)) },
      ...extra.ops,
    ],
  })
  return res.succeeded
}

/**
 * Writes `blobs/<sha>/<i>` unless already there: content-addressed, so an existing last chunk with
 * the same bytes means the whole set was written before (sets are written in order and deleted whole).
 */
export async function writeBlobs(store: Store, sha256: string, chunks: readonly Buffer[]): Promise<void> {
  const last = await store.get(storeKeys.blob(sha256, chunks.length - 1))
  if (last?.value.equals(chunks.at(-1) as Buffer)) return
  // Two 512 KiB chunks per txn stay under the 1.5 MiB request limit.
  for (let i = 0; i < chunks.length; i += 2) {
    const success: Op[] = chunks.slice(i, i + 2).map((value, j) => ({ type: 'put', key: storeKeys.blob(sha256, i + j), value }))
    await store.txn({ compares: [], success })
  }
}

/** Nothing to publish: record the attempt as ok (only when the record says otherwise) and drop the hold if asked. */
async function settleUnchanged(store: Store, generation: number, releaseHold: boolean, now: () => Date): Promise<void> {
  if (releaseHold) await store.delete(storeKeys.hold)
  const kv = await store.get(storeKeys.publishStatus)
  const parsed = kv ? parsePublishRecord(kv.value) : undefined
  const previous = parsed?.ok ? parsed.value : undefined
  // An unreadable record is rewritten, like a stale one.
  if (previous?.state !== 'ok' || previous.generation !== generation) {
    await store.put(storeKeys.publishStatus, JSON.stringify(record('ok', [], generation, now)))
  }
}

function record(state: PublishRecord['state'], errors: ConfigError[], generation: number | null, now: () => Date): PublishRecord {
  return { state, errors, generation, at: now().toISOString() }
}

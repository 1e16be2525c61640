import { type CurrentPointer, decodeConfigBlob, storeKeys, type VersionManifest } from '@fleetgate/schema'
import type { Store } from '@fleetgate/store'
import { ServiceError, type VersionSummary } from './service-types.ts'

/** What a publish builds on: the `current` pointer (with its mod revision, 0 when absent) and every manifest. */
export interface Head {
  pointer: CurrentPointer | undefined
  /** Mod revision of `current` as read; the publish txn compares it (0: absent). */
  pointerRevision: number
  /** Every manifest, oldest first. */
  manifests: VersionManifest[]
  /** The next generation: above both the pointer and every manifest, so generations only go up. */
  nextGen: number
}

/** Reads `current` and `versions/`. */
export async function readHead(store: Store): Promise<Head> {
  const [current, versions] = await Promise.all([store.get(storeKeys.current), store.getPrefix(storeKeys.versionsPrefix)])
  const pointer = current ? (JSON.parse(current.value.toString('utf8')) as CurrentPointer) : undefined
  const manifests = versions.kvs.map((kv) => JSON.parse(kv.value.toString('utf8')) as VersionManifest).sort((a, b) => a.gen - b.gen)
  const top = Math.max(pointer?.gen ?? 0, manifests.at(-1)?.gen ?? 0)
  return { pointer, pointerRevision: current?.modRevision ?? 0, manifests, nextGen: top + 1 }
}

/** History, newest first. */
export async function listVersions(store: Store): Promise<VersionSummary[]> {
  const { manifests } = await readHead(store)
  return manifests.map(toSummary).reverse()
}

/** A manifest as the API shows it. */
export function toSummary(m: VersionManifest): VersionSummary {
  return {
    generation: m.gen,
    parent: m.parent,
    rollbackOf: m.rollbackOf,
    author: m.author,
    message: m.message,
    createdAt: m.createdAt,
    sha256: m.sha256,
  }
}

/** One manifest; NOT_FOUND when the generation never existed or was pruned. */
export async function readManifest(store: Store, generation: number): Promise<VersionManifest> {
  const kv = await store.get(storeKeys.version(generation))
  if (!kv) throw new ServiceError('NOT_FOUND', await missingGenerationMessage(store, generation))
  return JSON.parse(kv.value.toString('utf8')) as VersionManifest
}

/**
 * Generations are numbered 1, 2, 3, ... by publishing, so a missing one below the newest existed
 * and was deleted by retention; saying so spares the reader a hunt for a typo.
 */
async function missingGenerationMessage(store: Store, generation: number): Promise<string> {
  const { manifests, pointer } = await readHead(store)
  const newest = Math.max(pointer?.gen ?? 0, manifests.at(-1)?.gen ?? 0)
  if (generation < 1 || generation >= newest) return `generation ${generation} not found`
  const oldest = manifests[0]?.gen
  return `generation ${generation} was pruned by retention (history keeps the newest versions only${oldest === undefined ? '' : `; the oldest kept is ${oldest}`})`
}

/** The config a manifest points to, read from its blobs and verified against its sha256. */
export async function readVersionConfig(store: Store, manifest: VersionManifest): Promise<Record<string, unknown>> {
  const read = await store.getPrefix(storeKeys.blobPrefix(manifest.sha256))
  const chunks = read.kvs.slice(0, manifest.chunks).map((kv) => kv.value)
  if (chunks.length !== manifest.chunks) {
    throw new ServiceError('NOT_FOUND', `content of generation ${manifest.gen} is missing (${chunks.length} of ${manifest.chunks} chunks)`)
  }
  return decodeConfigBlob(chunks, manifest.sha256) as Record<string, unknown>
}

/** A version's summary and decoded config. */
export async function getVersion(store: Store, generation: number): Promise<{ version: VersionSummary; config: Record<string, unknown> }> {
  const manifest = await readManifest(store, generation)
  return { version: toSummary(manifest), config: await readVersionConfig(store, manifest) }
}

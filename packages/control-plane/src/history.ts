import {
  type ConfigError,
  type CurrentPointer,
  decodeConfigBlob,
  describeProblem,
  generationOfKey,
  parseCurrentPointer,
  parseManifest,
  storeKeys,
  type VersionManifest,
} from '@fleetgate/schema'
import type { Store } from '@fleetgate/store'
import { ServiceError, type VersionHistory, type VersionSummary } from './service-types.ts'

/**
 * What a publish builds on: the `current` pointer (with its mod revision, 0 when absent) and every
 * readable manifest. Unreadable values are reported, never thrown: one bad key must not stop publishing.
 */
export interface Head {
  /** `current`; undefined when absent or unreadable (the next publish overwrites it). */
  pointer: CurrentPointer | undefined
  /** Mod revision of `current` as read, readable or not; the publish txn compares it (0: absent). */
  pointerRevision: number
  /** Why `current` could not be used, when it exists but is not a valid pointer. */
  pointerProblem: ConfigError | undefined
  /** Every readable manifest, oldest first. */
  manifests: VersionManifest[]
  /** `versions/<gen>` keys whose value is not a valid manifest, oldest first. */
  unreadableVersions: ConfigError[]
  /** Generations of every `versions/` key, readable or not, oldest first. */
  storedGenerations: number[]
  /** The parent of the next version: `current`'s generation, else (no usable pointer) the newest readable manifest's. */
  parent: number | null
  /** The next generation: above the pointer and every version key, so generations only go up. */
  nextGen: number
}

/** Reads `current` and `versions/`. */
export async function readHead(store: Store): Promise<Head> {
  const [current, versions] = await Promise.all([store.get(storeKeys.current), store.getPrefix(storeKeys.versionsPrefix)])
  const parsedPointer = current ? parseCurrentPointer(current.value) : undefined
  const pointer = parsedPointer?.ok ? parsedPointer.value : undefined
  const manifests: VersionManifest[] = []
  const unreadableVersions: ConfigError[] = []
  const storedGenerations: number[] = []
  for (const kv of versions.kvs) {
    const gen = generationOfKey(kv.key)
    if (gen === undefined) continue
    storedGenerations.push(gen)
    const parsed = parseManifest(kv.key, kv.value)
    if (parsed.ok) manifests.push(parsed.value)
    else unreadableVersions.push(parsed.problem)
  }
  manifests.sort((a, b) => a.gen - b.gen)
  storedGenerations.sort((a, b) => a - b)
  const top = Math.max(pointer?.gen ?? 0, storedGenerations.at(-1) ?? 0)
  return {
    pointer,
    pointerRevision: current?.modRevision ?? 0,
    pointerProblem: parsedPointer?.ok === false ? parsedPointer.problem : undefined,
    manifests,
    unreadableVersions,
    storedGenerations,
    parent: pointer?.gen ?? manifests.at(-1)?.gen ?? null,
    nextGen: top + 1,
  }
}

/** History, newest first, with the `versions/` keys that could not be read (listed, not fatal). */
export async function listVersions(store: Store): Promise<VersionHistory> {
  const { manifests, unreadableVersions } = await readHead(store)
  return { versions: manifests.map(toSummary).reverse(), unreadable: [...unreadableVersions].reverse() }
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

/**
 * One manifest; NOT_FOUND when the generation never existed, was pruned or its key was deleted;
 * CORRUPT_RECORD naming the key when its value is not a valid manifest.
 */
export async function readManifest(store: Store, generation: number): Promise<VersionManifest> {
  const key = storeKeys.version(generation)
  const kv = await store.get(key)
  if (!kv) throw new ServiceError('NOT_FOUND', await missingGenerationMessage(store, generation))
  const parsed = parseManifest(key, kv.value)
  if (!parsed.ok) throw new ServiceError('CORRUPT_RECORD', `generation ${generation}: ${describeProblem(parsed.problem)}`, [parsed.problem])
  return parsed.value
}

/**
 * Generations are numbered 1, 2, 3, ... by publishing, so a missing one below the oldest kept was
 * deleted by retention; one between the oldest and the newest lost its manifest some other way.
 */
async function missingGenerationMessage(store: Store, generation: number): Promise<string> {
  const head = await readHead(store)
  const newest = head.nextGen - 1
  if (generation < 1 || generation > newest) return `generation ${generation} not found`
  const oldest = head.storedGenerations[0]
  if (oldest === undefined || generation < oldest) {
    return `generation ${generation} was pruned by retention (history keeps the newest versions only${oldest === undefined ? '' : `; the oldest kept is ${oldest}`})`
  }
  return `generation ${generation} not found: its manifest ${storeKeys.version(generation)} is missing (deleted outside the control plane)`
}

/** The config a manifest points to, read from its blobs and verified against its sha256. */
export async function readVersionConfig(store: Store, manifest: VersionManifest): Promise<Record<string, unknown>> {
  const read = await store.getPrefix(storeKeys.blobPrefix(manifest.sha256))
  const chunks = read.kvs.slice(0, manifest.chunks).map((kv) => kv.value)
  if (chunks.length !== manifest.chunks) {
    throw new ServiceError('NOT_FOUND', `content of generation ${manifest.gen} is missing (${chunks.length} of ${manifest.chunks} chunks)`)
  }
  try {
    return decodeConfigBlob(chunks, manifest.sha256) as Record<string, unknown>
  } catch (err) {
    const path = storeKeys.blobPrefix(manifest.sha256)
    const message = `content of generation ${manifest.gen} is unreadable: ${(err as Error).message}`
    throw new ServiceError('CORRUPT_RECORD', message, [{ path, message: (err as Error).message }], { cause: err })
  }
}

/** A version's summary and decoded config. */
export async function getVersion(store: Store, generation: number): Promise<{ version: VersionSummary; config: Record<string, unknown> }> {
  const manifest = await readManifest(store, generation)
  return { version: toSummary(manifest), config: await readVersionConfig(store, manifest) }
}

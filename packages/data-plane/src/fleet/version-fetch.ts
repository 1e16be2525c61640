import type { CurrentPointer, VersionManifest } from '@fleetgate/schema'
import { storeKeys } from '@fleetgate/schema/runtime'
import { isStoreError, type Store } from '@fleetgate/store'

/**
 * The published version itself is unusable (missing or inconsistent manifest, missing chunks, hash
 * mismatch, undecodable content). Reading it again gives the same answer: NACK it and do not retry.
 * Any other error from {@link fetchVersion} is a StoreError: the store could not be read, so retry.
 */
export class VersionContentError extends Error {
  readonly code = 'VERSION_CONTENT'
}

/**
 * Fetches the config a pointer names: its manifest, then every blob chunk in one prefix read pinned
 * to `pinRevision` (one MVCC snapshot; a compacted pin is re-read at the latest revision, which is safe
 * because chunks are immutable and the content hash is verified by the decoder). Returns the chunks
 * in order, checked against the manifest's count.
 */
export async function fetchVersion(store: Store, pointer: CurrentPointer, pinRevision?: number): Promise<Buffer[]> {
  const manifest = await readManifest(store, pointer)
  const prefix = storeKeys.blobPrefix(pointer.sha256)
  let read: Awaited<ReturnType<Store['getPrefix']>>
  try {
    read = await store.getPrefix(prefix, pinRevision === undefined ? {} : { revision: pinRevision })
  } catch (err) {
    if (!isStoreError(err, 'COMPACTED') && !isStoreError(err, 'FUTURE_REVISION')) throw err
    read = await store.getPrefix(prefix)
  }
  const chunks = read.kvs.map((kv) => kv.value)
  const expected = Array.from({ length: manifest.chunks }, (_, i) => storeKeys.blob(pointer.sha256, i))
  const found = read.kvs.map((kv) => kv.key)
  if (found.length !== expected.length || found.some((key, i) => key !== expected[i])) {
    throw new VersionContentError(
      `generation ${pointer.gen}: expected ${manifest.chunks} blob chunk(s) under ${prefix}, found ${found.length}`,
    )
  }
  return chunks
}

async function readManifest(store: Store, pointer: CurrentPointer): Promise<VersionManifest> {
  const key = storeKeys.version(pointer.gen)
  const stored = await store.get(key)
  if (stored === undefined) throw new VersionContentError(`generation ${pointer.gen}: manifest ${key} is missing`)
  let manifest: VersionManifest
  try {
    manifest = JSON.parse(stored.value.toString('utf8')) as VersionManifest
  } catch (err) {
    throw new VersionContentError(`generation ${pointer.gen}: manifest ${key} is not JSON`, { cause: err })
  }
  if (manifest?.gen !== pointer.gen || manifest.sha256 !== pointer.sha256) {
    throw new VersionContentError(
      `generation ${pointer.gen}: manifest ${key} does not match current (gen ${manifest?.gen}, sha256 ${manifest?.sha256})`,
    )
  }
  if (!Number.isSafeInteger(manifest.chunks) || manifest.chunks < 1) {
    throw new VersionContentError(`generation ${pointer.gen}: manifest ${key} has an invalid chunk count`)
  }
  if (manifest.encoding !== undefined && manifest.encoding !== 'json+gzip') {
    throw new VersionContentError(`generation ${pointer.gen}: unsupported encoding "${manifest.encoding}"`)
  }
  return manifest
}

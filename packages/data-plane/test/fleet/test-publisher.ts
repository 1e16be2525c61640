import { encodeConfigBlob, storeKeys, type VersionManifest } from '@fleetgate/schema'
import type { Store } from '@fleetgate/store'

/** What one publish wrote. */
export interface Published {
  gen: number
  sha256: string
  /** The store revision of the txn that moved `current`. */
  revision: number
}

/** Options of one publish. */
export interface PublishOptions {
  /** Store these bytes' chunks under the config's hash instead of its own (a corrupt blob). */
  blobOf?: unknown
  /** Write the blobs and the manifest but leave `current` alone (a flip done elsewhere). */
  stageOnly?: boolean
}

/**
 * A stand-in for the control plane's publisher, for tests only: it writes whatever it is given, with
 * no validation (so tests can publish invalid configs), the way the real one lays data out: blob
 * chunks first, then the manifest and `current` in one txn.
 */
export function createTestPublisher(store: Store, firstGen = 1) {
  let gen = firstGen - 1
  return {
    get gen() {
      return gen
    },
    async publish(config: unknown, opts: PublishOptions = {}): Promise<Published> {
      const blob = encodeConfigBlob(config)
      const stored = opts.blobOf === undefined ? blob : encodeConfigBlob(opts.blobOf)
      gen++
      await store.txn({
        compares: [],
        success: stored.chunks.map((chunk, i) => ({ type: 'put' as const, key: storeKeys.blob(blob.sha256, i), value: chunk })),
      })
      const manifest: VersionManifest = {
        gen,
        parent: gen > 1 ? gen - 1 : null,
        rollbackOf: null,
        author: 'test',
        message: `generation ${gen}`,
        createdAt: new Date().toISOString(),
        sha256: blob.sha256,
        size: blob.size,
        chunks: stored.chunks.length,
        encoding: 'json+gzip',
      }
      const { revision } = await store.txn({
        compares: [],
        success: [
          { type: 'put', key: storeKeys.version(gen), value: JSON.stringify(manifest) },
          ...(opts.stageOnly
            ? []
            : [{ type: 'put' as const, key: storeKeys.current, value: JSON.stringify({ gen, sha256: blob.sha256 }) }]),
        ],
      })
      return { gen, sha256: blob.sha256, revision }
    },
  }
}

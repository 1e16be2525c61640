import { createHash } from 'node:crypto'
import { assembleDesired, type ConfigError, SINGLETON_SECTIONS, storeKeys } from '@fleetgate/schema'
import { isStoreError, type KeyValue, type Store } from '@fleetgate/store'

/** `desired/` as read at one revision: the raw keys, the config they assemble to, and its ETag. */
export interface DesiredTree {
  /** The store revision the whole tree was read at (one MVCC snapshot). */
  revision: number
  /** Every `desired/` key, in key order. */
  kvs: KeyValue[]
  byKey: Map<string, KeyValue>
  /** The assembled config as stored (before defaults); undecodable keys are missing here and listed in `errors`. */
  config: Record<string, unknown>
  /** Undecodable values and unexpected keys, with the key as path. */
  errors: ConfigError[]
  /** Every key missing from `config` (undecodable, badly named or unexpected): the full key as path, and why. */
  unreadable: ConfigError[]
  /** The whole tree's ETag: sha256 of its canonical entries (keys and stored text). */
  etag: string
}

/** Reads `desired/` at one revision and assembles it. */
export async function readDesired(store: Store): Promise<DesiredTree> {
  const read = await readPrefixOnce(store)
  const entries = read.kvs.map((kv) => ({ key: kv.key, value: kv.value.toString('utf8') }))
  const { config, errors } = assembleDesired(entries)
  return {
    revision: read.revision,
    kvs: read.kvs,
    byKey: new Map(read.kvs.map((kv) => [kv.key, kv])),
    config,
    errors,
    unreadable: unreadableKeys(read.kvs, config, errors),
    etag: treeEtag(entries),
  }
}

/** The keys that did not make it into `config`, with the error that names them (by key or by `kind.name`). */
function unreadableKeys(kvs: readonly KeyValue[], config: Record<string, unknown>, errors: readonly ConfigError[]): ConfigError[] {
  const out: ConfigError[] = []
  for (const { key } of kvs) {
    const [kind = '', name, ...rest] = key.slice(storeKeys.desiredPrefix.length).split('/')
    const section = config[kind] as Record<string, unknown> | undefined
    const isSingleton = (SINGLETON_SECTIONS as readonly string[]).includes(kind)
    const present =
      rest.length === 0 && section !== undefined && (isSingleton ? name === undefined : name !== undefined && Object.hasOwn(section, name))
    if (present) continue
    const why = errors.find((e) => e.path === key || e.path === (name === undefined ? kind : `${kind}.${name}`))
    out.push({ path: key, message: why?.message ?? 'not decodable' })
  }
  return out
}

/** A multi-page read pinned to a revision that got compacted mid-way is simply read again at the latest one. */
async function readPrefixOnce(store: Store) {
  try {
    return await store.getPrefix(storeKeys.desiredPrefix)
  } catch (err) {
    if (!isStoreError(err, 'COMPACTED')) throw err
    return await store.getPrefix(storeKeys.desiredPrefix)
  }
}

/**
 * The ETag of a whole tree. Entries are hashed as stored (length-prefixed, in key order), so any
 * change of any key changes it, and equal trees on any store give equal tags.
 */
export function treeEtag(entries: ReadonlyArray<{ key: string; value: string }>): string {
  const hash = createHash('sha256')
  for (const { key, value } of [...entries].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    hash.update(`${Buffer.byteLength(key)}:${key}${Buffer.byteLength(value)}:${value}`)
  }
  return hash.digest('hex')
}

/** The entries of `tree` with `key` replaced by `value` (or removed when `value` is undefined). */
export function entriesWith(tree: DesiredTree, key: string, value: string | undefined): Array<{ key: string; value: string }> {
  const out = tree.kvs.filter((kv) => kv.key !== key).map((kv) => ({ key: kv.key, value: kv.value.toString('utf8') }))
  if (value !== undefined) out.push({ key, value })
  return out
}

/**
 * Whether an If-Match value matches `etag`. Accepts the tag bare or quoted (as an HTTP header carries
 * it) and `*` for "exists".
 */
export function etagMatches(ifMatch: string | undefined, etag: string | undefined): boolean {
  if (ifMatch === undefined) return true
  if (etag === undefined) return false
  const wanted = ifMatch
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1')
  return wanted === '*' || wanted === etag
}

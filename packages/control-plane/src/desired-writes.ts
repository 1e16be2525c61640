import {
  assembleDesired,
  type ConfigError,
  encodeResource,
  invalidNameReason,
  RESOURCE_KINDS,
  type ResourceKind,
  SINGLETON_SECTIONS,
  type SingletonSection,
  splitDesired,
  storeKeys,
  validateConfig,
} from '@fleetgate/schema'
import { type Compare, MAX_TXN_OPS, type Store } from '@fleetgate/store'
import { applyChanges, type Change, deleteChange, planReplace, putChange } from './changeset.ts'
import { type DesiredTree, entriesWith, etagMatches, readDesired } from './desired-tree.ts'
import { findReferrers, referencedKeys } from './references.ts'
import { ServiceError } from './service-types.ts'

/** A write lost to a concurrent edit is re-planned on fresh data this many times (without If-Match). */
const MAX_ATTEMPTS = 5

/** Writes `changes` planned from a fresh read until they apply; If-Match turns a lost race into 412. */
async function writeUntilApplied(
  store: Store,
  ifMatch: string | undefined,
  signal: AbortSignal | undefined,
  plan: (tree: DesiredTree) => { changes: Change[]; compares?: Compare[] },
): Promise<void> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const { changes, compares } = plan(await readDesired(store))
    if (changes.length === 0) return
    if (await applyChanges(store, changes, compares, signal)) return
    if (ifMatch !== undefined) throw new ServiceError('PRECONDITION_FAILED', 'the desired config changed meanwhile (ETag mismatch)')
  }
  throw new ServiceError('CONFLICT', 'desired/ kept changing under this write; try again')
}

/**
 * Replaces the whole desired tree with `config` (validated first: INVALID lists every error and
 * nothing is written). Changed keys are put, missing ones deleted, in as many txns as needed. An
 * undecodable key is never deleted this way: it is missing from every read of the whole tree, so a
 * config read, edited and put back would drop it unnoticed. CONFLICT names such keys unless `config`
 * has a (valid) value for each; DELETE of the resource removes one on purpose.
 */
export async function replaceTree(store: Store, config: unknown, ifMatch: string | undefined, signal?: AbortSignal): Promise<void> {
  const validated = validateConfig(config)
  if (!validated.ok) throw new ServiceError('INVALID', 'invalid config', validated.errors)
  const target = splitDesired(config as Record<string, unknown>)
  await writeUntilApplied(store, ifMatch, signal, (tree) => {
    if (!etagMatches(ifMatch, tree.etag)) throw new ServiceError('PRECONDITION_FAILED', 'the desired config changed (ETag mismatch)')
    refuseDroppingUnreadable(tree, target)
    return { changes: planReplace(tree, target) }
  })
}

function refuseDroppingUnreadable(tree: DesiredTree, target: ReadonlyArray<{ key: string }>): void {
  const wanted = new Set(target.map((entry) => entry.key))
  const dropped = tree.unreadable.filter((u) => !wanted.has(u.path))
  if (dropped.length === 0) return
  const keys = dropped.map((u) => u.path).join(', ')
  throw new ServiceError(
    'CONFLICT',
    `desired/ holds unreadable keys that this config would delete: ${keys}; fix them, give them a value in this config, or delete them first (DELETE /{kind}/{name}; etcdctl del for keys outside the layout)`,
    dropped,
  )
}

/**
 * Puts one resource (or singleton section). The resulting whole tree must be valid; the key's mod
 * revision as read (the ETag) is compared inside the txn, as is the existence of what it references.
 */
export async function writeResource(
  store: Store,
  kind: ResourceKind | SingletonSection,
  name: string | undefined,
  value: unknown,
  ifMatch: string | undefined,
  signal?: AbortSignal,
): Promise<void> {
  const key = resourceKey(kind, name)
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ServiceError('INVALID', 'invalid resource', [{ path: errorPath(kind, name), message: 'must be a table' }])
  }
  const text = encodeResource(value as Record<string, unknown>)
  await writeUntilApplied(store, ifMatch, signal, (tree) => {
    const existing = tree.byKey.get(key)
    if (!etagMatches(ifMatch, existing && String(existing.modRevision))) {
      throw new ServiceError('PRECONDITION_FAILED', `${key} changed (ETag mismatch)`)
    }
    requireValid(entriesWith(tree, key, text))
    const refs = referencedKeys(kind, value as Record<string, unknown>).slice(0, MAX_TXN_OPS - 1)
    const compares = refs.map((k): Compare => ({ key: k, target: 'create', op: '>', value: 0 }))
    return { changes: [putChange(key, text, existing?.modRevision)], compares }
  })
}

/** Deletes one resource: NOT_FOUND when absent, CONFLICT naming every referrer, INVALID if the rest is invalid. */
export async function removeResource(
  store: Store,
  kind: ResourceKind,
  name: string,
  ifMatch: string | undefined,
  signal?: AbortSignal,
): Promise<void> {
  const key = resourceKey(kind, name)
  await writeUntilApplied(store, ifMatch, signal, (tree) => {
    const existing = tree.byKey.get(key)
    if (!existing) throw new ServiceError('NOT_FOUND', `${kind}.${name} not found`)
    if (!etagMatches(ifMatch, String(existing.modRevision))) throw new ServiceError('PRECONDITION_FAILED', `${key} changed (ETag mismatch)`)
    const referrers = findReferrers(tree.config, kind, name)
    if (referrers.length > 0) {
      const who = referrers.map((r) => r.path).join(', ')
      throw new ServiceError('CONFLICT', `${kind}.${name} is still referenced by ${who}`, referrers)
    }
    requireValid(entriesWith(tree, key, undefined))
    return { changes: [deleteChange(key, existing.modRevision)] }
  })
}

/** The `desired/` key of a resource; NOT_FOUND for an unknown kind or a name where none belongs. */
export function resourceKey(kind: string, name: string | undefined): string {
  const isSingleton = (SINGLETON_SECTIONS as readonly string[]).includes(kind)
  const isKind = (RESOURCE_KINDS as readonly string[]).includes(kind)
  if (isSingleton && name === undefined) return storeKeys.desired(kind as SingletonSection)
  if (isKind && name !== undefined) {
    const reason = invalidNameReason(name)
    if (reason !== undefined) throw new ServiceError('INVALID', 'invalid resource name', [{ path: `${kind}.${name}`, message: reason }])
    return storeKeys.desired(kind as ResourceKind, name)
  }
  throw new ServiceError('NOT_FOUND', `no such resource: ${name === undefined ? kind : `${kind}/${name}`}`)
}

function errorPath(kind: string, name: string | undefined): string {
  return name === undefined ? kind : `${kind}.${name}`
}

/** Assembles and validates entries; INVALID with every error (undecodable keys included). */
function requireValid(entries: Array<{ key: string; value: string }>): void {
  const { config, errors } = assembleDesired(entries)
  const validated = validateConfig(config)
  const all: ConfigError[] = [...errors, ...(validated.ok ? [] : validated.errors)]
  if (all.length > 0) throw new ServiceError('INVALID', 'the resulting config is invalid', all)
}

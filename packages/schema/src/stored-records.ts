import type { ConfigError } from './errors.ts'
import { type CurrentPointer, type PublishRecord, storeKeys, type VersionManifest } from './store-layout.ts'

/**
 * Parsers of the JSON records the control plane keeps in the store (`current`, `versions/<gen>`,
 * `control/publish`, `control/hold`). Anyone with etcdctl can write anything there, so each value is
 * checked for shape, not only for JSON syntax; a bad one is a {@link ConfigError} whose path is the key.
 */
export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: ConfigError }

const SHA256 = /^[0-9a-f]{64}$/
const VERSION_KEY = /^versions\/(\d{1,20})$/

/** The generation a `versions/<gen>` key names (undefined for any other key). */
export function generationOfKey(key: string): number | undefined {
  const match = VERSION_KEY.exec(key)
  const gen = match ? Number(match[1]) : Number.NaN
  return Number.isSafeInteger(gen) ? gen : undefined
}

/** `current`: `{gen, sha256}` with a positive integer gen and a hex sha256. */
export function parseCurrentPointer(value: Buffer): Parsed<CurrentPointer> {
  return parseRecord(storeKeys.current, value, (v) => {
    if (!isGeneration(v.gen, 1)) return 'gen must be a positive integer'
    if (!isSha256(v.sha256)) return 'sha256 must be 64 hex digits'
    return { gen: v.gen as number, sha256: v.sha256 as string }
  })
}

/** `versions/<gen>`: a manifest whose `gen` is the key's and whose fields have their types. */
export function parseManifest(key: string, value: Buffer): Parsed<VersionManifest> {
  return parseRecord(key, value, (v) => {
    if (!isGeneration(v.gen, 1) || v.gen !== generationOfKey(key)) return `gen must be the key's generation (${generationOfKey(key)})`
    if (!isSha256(v.sha256)) return 'sha256 must be 64 hex digits'
    if (!isGeneration(v.chunks, 1)) return 'chunks must be a positive integer'
    if (!isGeneration(v.size, 0)) return 'size must be an integer >= 0'
    if (v.parent !== null && !isGeneration(v.parent, 1)) return 'parent must be a generation or null'
    if (v.rollbackOf !== null && v.rollbackOf !== undefined && !isGeneration(v.rollbackOf, 1))
      return 'rollbackOf must be a generation or null'
    for (const field of ['author', 'message', 'createdAt'] as const) if (typeof v[field] !== 'string') return `${field} must be a string`
    return { ...(v as unknown as VersionManifest), rollbackOf: (v.rollbackOf as number | null | undefined) ?? null }
  })
}

/** `control/publish`: the last publish attempt. */
export function parsePublishRecord(value: Buffer): Parsed<PublishRecord> {
  return parseRecord(storeKeys.publishStatus, value, (v) => {
    if (v.state !== 'ok' && v.state !== 'rejected') return 'state must be "ok" or "rejected"'
    if (!Array.isArray(v.errors)) return 'errors must be a list'
    if (v.generation !== null && !isGeneration(v.generation, 0)) return 'generation must be an integer or null'
    if (typeof v.at !== 'string') return 'at must be a string'
    return v as unknown as PublishRecord
  })
}

/** The generation `control/hold` holds (its presence alone is what holds publishing). */
export function parseHoldGeneration(value: Buffer): Parsed<number> {
  return parseRecord(storeKeys.hold, value, (v) =>
    isGeneration(v.generation, 0) ? (v.generation as number) : 'generation must be an integer',
  )
}

/** The message of a problem as a sentence: `versions/00000000000000000003 is unreadable: not JSON (...)`. */
export function describeProblem(problem: ConfigError): string {
  return `${problem.path} is unreadable: ${problem.message}`
}

function parseRecord<T>(key: string, value: Buffer, check: (v: Record<string, unknown>) => T | string): Parsed<T> {
  let parsed: unknown
  try {
    parsed = JSON.parse(value.toString('utf8'))
  } catch (err) {
    return { ok: false, problem: { path: key, message: `not JSON (${(err as Error).message})` } }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { ok: false, problem: { path: key, message: 'not a JSON object' } }
  }
  const result = check(parsed as Record<string, unknown>)
  return typeof result === 'string' ? { ok: false, problem: { path: key, message: result } } : { ok: true, value: result }
}

function isGeneration(value: unknown, min: number): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min
}

function isSha256(value: unknown): boolean {
  return typeof value === 'string' && SHA256.test(value)
}

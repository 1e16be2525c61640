import { createHash } from 'node:crypto'
import { gunzipSync, gzipSync } from 'node:zlib'
import { parse as parseTomlText, stringify } from 'smol-toml'
import { canonicalJson } from './canonical.ts'
import type { ConfigError } from './errors.ts'
import { RESOURCE_KINDS, type ResourceKind, SINGLETON_SECTIONS, type SingletonSection } from './kinds.ts'
import { invalidNameReason } from './resource-name.ts'

/**
 * The key layout under /fleetgate/<cluster>/ shared by the control plane (writer) and the
 * data planes (readers). Keys here are relative to that prefix.
 */
export const storeKeys = {
  prefix: (cluster: string) => `/fleetgate/${cluster}/`,
  desiredPrefix: 'desired/',
  desired: (kind: ResourceKind | SingletonSection, name?: string) => (name === undefined ? `desired/${kind}` : `desired/${kind}/${name}`),
  versionsPrefix: 'versions/',
  version: (gen: number) => `versions/${String(gen).padStart(20, '0')}`,
  blobPrefix: (sha256: string) => `blobs/${sha256}/`,
  blob: (sha256: string, index: number) => `blobs/${sha256}/${String(index).padStart(4, '0')}`,
  current: 'current',
  publisherLock: 'control/publisher',
  publishStatus: 'control/publish',
  hold: 'control/hold',
  nodesPrefix: 'nodes/',
  node: (id: string) => `nodes/${id}`,
  /** Cache purges for every data plane, each under a short lease (see cache-purge.ts). */
  purgePrefix: 'purge/',
  purge: (id: string) => `purge/${id}`,
} as const

/** `current`: the one key data planes watch. */
export interface CurrentPointer {
  gen: number
  sha256: string
}

/** `versions/<gen>`: an immutable published version. */
export interface VersionManifest {
  gen: number
  parent: number | null
  rollbackOf: number | null
  author: string
  message: string
  createdAt: string
  /** sha256 of the config's canonical JSON. */
  sha256: string
  /** Bytes of canonical JSON. */
  size: number
  /** Number of blob chunks under blobs/<sha256>/. */
  chunks: number
  encoding: 'json+gzip'
}

/** Blob chunks stay well under etcd's 1.5 MiB request limit, several per transaction. */
export const BLOB_CHUNK_BYTES = 512 * 1024

/** Encodes a validated config as gzip of canonical JSON, cut into chunks; with its hash and size. */
export function encodeConfigBlob(config: unknown): { sha256: string; size: number; chunks: Buffer[] } {
  const json = canonicalJson(config)
  const sha256 = createHash('sha256').update(json).digest('hex')
  const packed = gzipSync(json)
  const chunks: Buffer[] = []
  for (let at = 0; at < packed.length; at += BLOB_CHUNK_BYTES) chunks.push(packed.subarray(at, at + BLOB_CHUNK_BYTES))
  if (chunks.length === 0) chunks.push(Buffer.alloc(0))
  return { sha256, size: Buffer.byteLength(json), chunks }
}

/** Joins and unzips blob chunks into the config's canonical JSON, verifying the sha256; throws on a mismatch. */
export function decodeConfigBlobText(chunks: readonly Buffer[], sha256: string): string {
  const json = gunzipSync(Buffer.concat(chunks)).toString('utf8')
  const actual = createHash('sha256').update(json).digest('hex')
  if (actual !== sha256) throw new Error(`config blob hash mismatch: expected ${sha256}, got ${actual}`)
  return json
}

/** Joins and decodes blob chunks, verifying the sha256; throws when the content does not match. */
export function decodeConfigBlob(chunks: readonly Buffer[], sha256: string): unknown {
  return JSON.parse(decodeConfigBlobText(chunks, sha256))
}

/** Serializes one resource for `desired/<kind>/<name>`: its table as TOML. */
export function encodeResource(value: Record<string, unknown>): string {
  return stringify(value)
}

/**
 * Parses a `desired/` value: JSON (starting with "{") or TOML; a TOML value wrapped in its
 * table header (`[upstreams.api]`, as Pingap writes) is unwrapped.
 */
export function decodeResource(text: string, kind: string, name: string | undefined): Record<string, unknown> {
  const trimmed = text.trim()
  const value = trimmed.startsWith('{') ? JSON.parse(trimmed) : (parseTomlText(trimmed) as Record<string, unknown>)
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('value must be a table')
  const wrapped = (value as Record<string, unknown>)[kind]
  if (Object.keys(value).length === 1 && wrapped && typeof wrapped === 'object') {
    if (name === undefined) return wrapped as Record<string, unknown>
    const inner = (wrapped as Record<string, unknown>)[name]
    if (inner && typeof inner === 'object') return inner as Record<string, unknown>
  }
  return value as Record<string, unknown>
}

/**
 * Builds a config object from `desired/` entries (keys relative to the cluster prefix).
 * Undecodable values and unknown kinds are reported with the key as path; nothing is dropped silently.
 */
export function assembleDesired(entries: ReadonlyArray<{ key: string; value: string }>): {
  config: Record<string, unknown>
  errors: ConfigError[]
} {
  const config: Record<string, Record<string, unknown>> = {}
  const errors: ConfigError[] = []
  for (const { key, value } of entries) {
    const parts = key.slice(storeKeys.desiredPrefix.length).split('/')
    const [kind, name, ...rest] = parts as [string, string | undefined, ...string[]]
    const isSingleton = (SINGLETON_SECTIONS as readonly string[]).includes(kind)
    const isKind = (RESOURCE_KINDS as readonly string[]).includes(kind)
    if (
      (isSingleton && name !== undefined) ||
      (isKind && (name === undefined || name === '' || rest.length > 0)) ||
      (!isSingleton && !isKind)
    ) {
      errors.push({
        path: key,
        message: `unexpected key under desired/ (use desired/<${RESOURCE_KINDS.join('|')}>/<name> or desired/<${SINGLETON_SECTIONS.join('|')}>)`,
      })
      continue
    }
    // Assigned into a plain object below, "__proto__" would vanish: refuse such names (etcdctl edits).
    const badName = isKind ? invalidNameReason(name as string) : undefined
    if (badName !== undefined) {
      errors.push({ path: `${kind}.${name}`, message: badName })
      continue
    }
    try {
      const decoded = decodeResource(value, kind, name)
      if (isSingleton) config[kind] = decoded
      else {
        config[kind] ??= {}
        ;(config[kind] as Record<string, unknown>)[name as string] = decoded
      }
    } catch (err) {
      errors.push({ path: isSingleton ? kind : `${kind}.${name}`, message: `cannot parse ${key}: ${(err as Error).message}` })
    }
  }
  return { config, errors }
}

/** The `desired/` entries of a config: one per resource and one per present singleton section. */
export function splitDesired(config: Record<string, unknown>): Array<{ key: string; value: string }> {
  const out: Array<{ key: string; value: string }> = []
  for (const section of SINGLETON_SECTIONS) {
    const value = config[section]
    if (value && typeof value === 'object')
      out.push({ key: storeKeys.desired(section), value: encodeResource(value as Record<string, unknown>) })
  }
  for (const kind of RESOURCE_KINDS) {
    for (const [name, value] of Object.entries((config[kind] as Record<string, Record<string, unknown>> | undefined) ?? {})) {
      out.push({ key: storeKeys.desired(kind, name), value: encodeResource(value) })
    }
  }
  return out
}

/** `nodes/<id>`: what each data plane reports about itself, under its own lease. */
export interface NodeStatus {
  id: string
  /** A per-boot id: tells a restarted node from the old one. */
  bootId: string
  /** Where the node serves, for people ("10.0.0.7:8080"); null when unknown. */
  address: string | null
  /** Gateway version. */
  version: string
  startedAt: string
  applied: { gen: number; sha256: string; at: string } | null
  rejected: { gen: number; error: string; at: string } | null
  /** Where the applied config came from: "etcd", "local" (standalone's store) or "cache" (the cache file). */
  source: 'etcd' | 'local' | 'cache' | null
  etcdConnected: boolean
  /** Last time the node wrote this value (it writes on change and every heartbeat). */
  updatedAt: string
  /** The node's key figures at `updatedAt`; absent from nodes that predate them. */
  figures?: NodeFigures
}

/** Responses by status class. */
export interface StatusClassCounts {
  '1xx': number
  '2xx': number
  '3xx': number
  '4xx': number
  '5xx': number
}

/**
 * A node's key figures, read from its own metrics at each heartbeat: counters are cumulative since
 * the process started; `recent` covers the window since the previous report.
 */
export interface NodeFigures {
  requests: number
  responses: StatusClassCounts
  /** Requests the gateway answered with an error of its own (NO_ROUTE, UPSTREAM_CONNECT, ...). */
  gatewayErrors: number
  /** Response body bytes sent to clients. */
  bytesOut: number
  activeRequests: number
  /** Resident set size of the process. */
  rssBytes: number
  uptimeSeconds: number
  recent: {
    /** Length of the window. */
    seconds: number
    requests: number
    responses5xx: number
    requestsPerSecond: number
    /** Latency estimated from the histogram buckets of the window (null: no request in it). */
    p50Ms: number | null
    p99Ms: number | null
    meanMs: number | null
  }
}

/** `control/publish`: the last publish attempt, written by the publisher. */
export interface PublishRecord {
  state: 'ok' | 'rejected'
  errors: ConfigError[]
  generation: number | null
  at: string
}

/** `control/hold`: present while a rollback holds auto-publish. */
export interface HoldRecord {
  generation: number
  author: string
  at: string
}

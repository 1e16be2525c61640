import type { ConfigError, NodeFigures, ResourceKind, SingletonSection, VersionManifest } from '@fleetgate/schema'

/** Who is making a change (recorded as a version's author). */
export interface Actor {
  name: string
  role: 'admin' | 'readonly'
}

/** Options of a write: optimistic concurrency and the version message. */
export interface WriteOptions {
  /** ETag the caller read; a mismatch fails with ServiceError code PRECONDITION_FAILED (412). */
  ifMatch?: string
  author: string
  message?: string
}

/** The outcome of a write or publish: the generation now current (unchanged when nothing changed). */
export interface PublishResult {
  generation: number
  sha256: string
  /** False when the desired tree was valid but equal to the current version (no new generation). */
  published: boolean
  /** True while a rollback holds auto-publish. */
  held: boolean
}

/** `GET /publish`: the last publish attempt. */
export interface PublishStatus {
  state: 'ok' | 'rejected'
  errors: ConfigError[]
  generation: number | null
  held: boolean
  /** When the attempt happened (ISO). */
  at: string | null
  /**
   * What is wrong besides the last attempt: unreadable `current`, `control/publish` or `control/hold`
   * (with the key as path), and the last failure of this control plane's auto-publish while it lasts
   * (path "publish"). Empty when all is well.
   */
  problems: ConfigError[]
}

/** One entry of the history (`GET /versions`). */
export type VersionSummary = Pick<VersionManifest, 'parent' | 'rollbackOf' | 'author' | 'message' | 'createdAt' | 'sha256'> & {
  generation: number
}

/** `GET /versions`: readable versions newest first, and the `versions/` keys that are not valid manifests. */
export interface VersionHistory {
  versions: VersionSummary[]
  /** One entry per unreadable key, newest first: the key as path and why. */
  unreadable: ConfigError[]
}

/** Per-resource diff between two versions; a singleton section (basic, metrics, tracing) has no `name`. */
export interface ConfigDiff {
  from: number
  to: number
  added: Array<{ kind: string; name?: string }>
  removed: Array<{ kind: string; name?: string }>
  changed: Array<{ kind: string; name?: string; keys: string[] }>
}

/** One data plane as the fleet view shows it. */
export interface FleetNode {
  id: string
  address: string | null
  version: string | null
  applied: { generation: number; sha256: string; at: string } | null
  rejected: { generation: number; error: string; at: string } | null
  lastSeen: string
  stale: boolean
  /** The node's key figures from its last heartbeat (absent: the node reports none). */
  figures?: NodeFigures
}

/**
 * The fleet at a glance: nodes by state (as `fleetgate_control_plane_nodes` counts them) and the
 * figures of the nodes that are not stale, summed (or the worst, for p99).
 */
export interface FleetSummary {
  nodes: { total: number; current: number; behind: number; rejected: number; stale: number }
  /** Nodes whose last heartbeat carried figures (and are not stale): the ones summed below. */
  reporting: number
  /** Sum of the nodes' request rates over their last heartbeat window. */
  requestsPerSecond: number
  /** 5xx responses / requests over those windows; null when there was no request. */
  errorRatio5xx: number | null
  /** The highest p99 latency of those windows, in milliseconds; null when there was no request. */
  maxP99Ms: number | null
  /** Cumulative requests and 5xx responses since each node started. */
  requests: number
  responses5xx: number
  activeRequests: number
  rssBytes: number
}

/** `GET /api/v1/fleet`. */
export interface FleetView {
  nodes: FleetNode[]
  summary: FleetSummary
}

/** A desired resource (or singleton section) with its ETag. */
export interface DesiredResource {
  value: Record<string, unknown>
  etag: string
  /** Whole-tree reads: `desired/` keys that could not be decoded and are missing from `value` (key as path). */
  unreadable?: ConfigError[]
}

/** Stable error codes of the service, each with the HTTP status the admin API answers. */
export const SERVICE_ERRORS = {
  INVALID: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PRECONDITION_FAILED: 412,
  /** A record the control plane wrote (manifest, pointer, blob) holds an invalid value; `errors` names the key. */
  CORRUPT_RECORD: 500,
  /** A write reached desired/ but its publish failed for a reason that is no other code. */
  PUBLISH_FAILED: 500,
  STORE_UNAVAILABLE: 503,
} as const

/** Thrown by the service; `errors` lists config errors for INVALID. */
export class ServiceError extends Error {
  readonly code: keyof typeof SERVICE_ERRORS
  readonly status: number
  readonly errors: ConfigError[]
  constructor(code: keyof typeof SERVICE_ERRORS, message: string, errors: ConfigError[] = [], options?: ErrorOptions) {
    super(message, options)
    this.name = 'ServiceError'
    this.code = code
    this.status = SERVICE_ERRORS[code]
    this.errors = errors
  }
}

/**
 * The control plane's domain: the desired tree, publishing, history, rollback and the fleet
 * view, over a Store. The admin API is a thin HTTP layer on this.
 */
export interface ConfigService {
  /** The whole desired tree as a config object (as stored, before defaults), its ETag and its undecodable keys. */
  getDesired(): Promise<DesiredResource>
  /**
   * Replaces the whole desired tree with `config` (validated first) and publishes it. Refused with
   * CONFLICT naming them when undecodable `desired/` keys are absent from `config` (they are deleted
   * only by DELETE of the resource, never as a side effect of a whole-tree write).
   */
  putDesired(config: unknown, options: WriteOptions): Promise<PublishResult>
  getResource(kind: ResourceKind | SingletonSection, name: string | undefined): Promise<DesiredResource>
  putResource(
    kind: ResourceKind | SingletonSection,
    name: string | undefined,
    value: unknown,
    options: WriteOptions,
  ): Promise<PublishResult>
  /** Refused with CONFLICT (409) while another resource references it. */
  deleteResource(kind: ResourceKind, name: string, options: WriteOptions): Promise<PublishResult>
  /** Validates without storing. */
  validate(config: unknown): { ok: true } | { ok: false; errors: ConfigError[] }
  publishStatus(): Promise<PublishStatus>
  /**
   * How the last import of a config file (standalone `--config`) ended: the errors of a file that
   * was not imported show in publishStatus().problems until an import succeeds (undefined).
   */
  reportImport(errors: ConfigError[] | undefined): void
  listVersions(): Promise<VersionHistory>
  getVersion(generation: number): Promise<{ version: VersionSummary; config: Record<string, unknown> }>
  diff(from: number, to: number): Promise<ConfigDiff>
  /** Publishes `generation`'s content as a new generation and holds auto-publish. */
  rollback(generation: number, author: string): Promise<PublishResult>
  /** Writes `generation`'s content back into desired/ and releases the hold. */
  restore(generation: number, author: string): Promise<PublishResult>
  /** Releases the hold (publishing desired/ if it differs). */
  release(author: string): Promise<PublishResult>
  fleet(): Promise<FleetView>
  /** Starts watching desired/ (etcdctl edits are published, debounced); fleet() reads nodes/ on demand. */
  start(): Promise<void>
  close(): Promise<void>
}

import type { Config } from '@fleetgate/schema'

/** ACME settings of a data plane (`--no-acme`, `--acme-ca`, `--acme-dir`). */
export interface AcmeModeOptions {
  /** Place ACME orders from this node; default true. A node with it off still answers the fleet's challenges. */
  enabled?: boolean
  /** PEM file of an extra CA trusted for the ACME directory's HTTPS (a private CA, or pebble's in tests). */
  caFile?: string
  /** File mode: folder of issued certificates and account keys; default `.fleetgate/acme`. */
  dir?: string
  /** Periodic re-check; default 1 h (±20% jitter). */
  intervalMs?: number
  /** First retry after a failed order (doubling up to 6 h); default 1 min. */
  firstRetryMs?: number
}

/** ACME as a running data plane uses it. */
export interface NodeAcme {
  /** The gateway's acmeChallenge seam: the key authorization of a token, or undefined. */
  lookup(token: string): string | undefined
  /** Call after every applied config. */
  check(config: Config): void
  /** Resolves once no order runs or is queued. */
  idle(): Promise<void>
  stop(): Promise<void>
}

import type { IncomingHttpHeaders } from 'node:http'
import type { UpstreamConfig } from '@fleetgate/schema'
import type { Dispatcher } from 'undici'

/** What a balancer may look at to pick a backend. Built once per request by the proxy. */
export interface BalanceRequest {
  /** The client address (after trusted-proxy resolution). */
  clientIp: string
  /** Request headers as Node parsed them (lower-case names). */
  headers: IncomingHttpHeaders
  /** Raw query string without the "?" ("" when none). */
  query: string
}

/** One backend of an upstream: its connection pool and its health, shared by every request. */
export interface Backend {
  /** "host:port" as written in `addrs`; stable across reloads. */
  readonly id: string
  readonly host: string
  readonly port: number
  readonly weight: number
  /** The undici Pool that talks to this backend (keep-alive, timeouts, TLS). */
  readonly dispatcher: Dispatcher
  /** Requests in flight to this backend right now. */
  readonly inflight: number
  /** True when active checks say up and the circuit breaker lets a request through now. */
  isAvailable(now: number): boolean
  /** Called when a request is sent to this backend (before dispatch). */
  onRequestStart(): void
  /** Called when that request ends; `failed` is a connect/timeout/5xx-less transport failure. */
  onRequestEnd(failed: boolean): void
}

/** Chooses a backend for a request among those available. */
export interface Balancer {
  /**
   * A backend for `req`, skipping unavailable ones and those in `exclude` (already tried);
   * undefined when none is left.
   */
  pick(req: BalanceRequest, exclude?: ReadonlySet<Backend>): Backend | undefined
}

/** A named upstream: backends, balancer, health checks. Reused across reloads while its config is unchanged. */
export interface Upstream {
  readonly name: string
  /** configHash of the upstream's config: equal hashes mean the upstream can be reused as it is. */
  readonly hash: string
  readonly config: UpstreamConfig
  readonly backends: readonly Backend[]
  /** Parsed `read_timeout` in ms (headers and body inactivity). */
  readonly readTimeoutMs: number
  pick(req: BalanceRequest, exclude?: ReadonlySet<Backend>): Backend | undefined
  /** True when at least one backend is available now. */
  hasAvailable(): boolean
  /** Starts active health checks (idempotent). */
  start(): void
  /** Stops health checks and closes pools gracefully (in-flight requests finish). */
  close(): Promise<void>
}

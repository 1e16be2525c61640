import type { BackendAddr, UpstreamConfig } from '@fleetgate/schema'
import { parseDuration } from '@fleetgate/schema/runtime'
import { type Dispatcher, Pool } from 'undici'
import { type CircuitBreaker, createCircuitBreaker } from './circuit-breaker.ts'
import { H2Dispatcher } from './h2-dispatcher.ts'
import type { Logger } from './logger.ts'
import { resolveUpstreamTls, tlsConnectOptions, type UpstreamTls } from './tls-options.ts'
import type { Backend } from './types.ts'

/** What a backend needs from its upstream. */
export interface BackendDeps {
  logger: Logger
  /** Upstream name, for logs. */
  upstream: string
  /** Clock for the circuit breaker; Date.now by default. */
  now?: () => number
  /** TLS settings shared by the upstream's backends; resolved from `config` when absent. */
  tls?: UpstreamTls
}

/** A Backend as its upstream and health checker see it: health can be set and the pool closed. */
export interface UpstreamBackend extends Backend {
  readonly breaker: CircuitBreaker
  /** Active-check verdict (true until a check says otherwise). */
  readonly isUp: boolean
  /** Times the circuit breaker opened (passive ejections) since this backend was created. */
  readonly ejections: number
  setUp(up: boolean): void
  /** Closes the pool gracefully: in-flight requests finish. */
  close(): Promise<void>
}

/**
 * A backend with its own undici Pool, up and with a closed circuit. The pool is created on
 * first use: a config of thousands of upstreams compiles without thousands of pools (an undici
 * Pool allocates its queues up front), and a backend no request reaches never has one.
 */
export function createBackend(addr: BackendAddr, config: UpstreamConfig, deps: BackendDeps): UpstreamBackend {
  const now = deps.now ?? Date.now
  const tls = deps.tls ?? resolveUpstreamTls(config)
  let pool: Dispatcher | undefined
  let closed = false
  let ejections = 0
  const breaker = createCircuitBreaker({
    failures: config.circuit_break_failures,
    openDurationMs: parseDuration(config.circuit_break_open_duration),
    onStateChange: (state) => {
      const fields = { upstream: deps.upstream, backend: addr.id, circuit: state }
      if (state === 'open') ejections++
      if (state === 'open') deps.logger.warn(fields, 'backend ejected after consecutive failures')
      else deps.logger.info(fields, 'backend circuit state changed')
    },
  })
  let inflight = 0
  let up = true
  return {
    id: addr.id,
    host: addr.host,
    port: addr.port,
    weight: addr.weight,
    get dispatcher() {
      if (pool === undefined) {
        pool = createPool(addr, config, tls)
        // Reached after close(): the pool refuses requests, as a closed one would.
        if (closed) void pool.close()
      }
      return pool
    },
    breaker,
    get inflight() {
      return inflight
    },
    get isUp() {
      return up
    },
    get ejections() {
      return ejections
    },
    setUp(value) {
      up = value
    },
    isAvailable(at) {
      return up && breaker.isAvailable(at)
    },
    onRequestStart() {
      inflight += 1
      breaker.onRequestStart(now())
    },
    onRequestEnd(failed) {
      inflight -= 1
      breaker.onRequestEnd(failed, now())
    },
    close() {
      closed = true
      return pool === undefined ? Promise.resolve() : pool.close()
    },
  }
}

/** The origin URL of a backend ("http://[::1]:8080" style). */
export function backendOrigin(scheme: string, host: string, port: number): string {
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`
}

/** Most HTTP/2 sessions per backend: streams multiplex, so a few connections carry any load. */
const MAX_H2_SESSIONS = 8

/**
 * The backend's dispatcher: an undici Pool, or for `alpn = "h2"` an HTTP/2 session pool that
 * multiplexes streamed bodies (gRPC) which undici would run one per connection; WebSocket
 * upgrades still go through the undici Pool.
 */
function createPool(addr: BackendAddr, config: UpstreamConfig, tls: UpstreamTls): Dispatcher {
  const pool = createUndiciPool(addr, config, tls)
  if (config.alpn !== 'h2') return pool
  return new H2Dispatcher({
    origin: backendOrigin(tls.enabled ? 'https' : 'http', addr.host, addr.port),
    connectTimeoutMs: parseDuration(config.connection_timeout),
    idleTimeoutMs: parseDuration(config.idle_timeout),
    maxSessions: Math.min(config.max_connections, MAX_H2_SESSIONS),
    ...(tls.enabled ? { tls: tlsConnectOptions(tls, addr.host) } : {}),
    upgrades: pool,
  })
}

function createUndiciPool(addr: BackendAddr, config: UpstreamConfig, tls: UpstreamTls): Pool {
  const readTimeout = parseDuration(config.read_timeout)
  const h2 = config.alpn !== 'h1'
  const connect: Record<string, unknown> = {
    timeout: parseDuration(config.connection_timeout),
    ...(tls.enabled ? tlsConnectOptions(tls, addr.host) : {}),
    // Plain-text "h2" means HTTP/2 with prior knowledge (gRPC backends); over TLS ALPN decides.
    ...(config.alpn === 'h2' && !tls.enabled ? { useH2c: true } : {}),
  }
  return new Pool(backendOrigin(tls.enabled ? 'https' : 'http', addr.host, addr.port), {
    connections: config.max_connections,
    connect,
    keepAliveTimeout: parseDuration(config.idle_timeout),
    headersTimeout: readTimeout,
    bodyTimeout: readTimeout,
    pipelining: 1,
    allowH2: h2,
  })
}

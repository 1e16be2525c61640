import type { UpstreamConfig } from '@fleetgate/schema'
import { configHash, parseAlgorithm, parseBackendAddr, parseDuration, parseHealthCheck } from '@fleetgate/schema/runtime'
import { createBackend, type UpstreamBackend } from './backend.ts'
import { createBalancer } from './balancers/index.ts'
import { createHealthChecker, type HealthChecker } from './health-checker.ts'
import type { Logger } from './logger.ts'
import { resolveUpstreamTls } from './tls-options.ts'
import type { Upstream } from './types.ts'

/** What an upstream needs from the snapshot that builds it. */
export interface UpstreamDeps {
  logger: Logger
  /** Clock for availability and circuit breakers; Date.now by default. */
  now?: () => number
  /** configHash(config) when the caller already has it (compile hashes each upstream once). */
  hash?: string
}

/** An Upstream whose backends expose their health controls (for checks, status and tests). */
export interface ManagedUpstream extends Upstream {
  readonly backends: readonly UpstreamBackend[]
}

/**
 * Builds an upstream from its validated config: one pool per backend, the balancer, and
 * (when `health_check` is set) an active checker that start() runs. Throws on a malformed
 * address, algorithm or health check, so a bad config fails at compile time.
 */
export function createUpstream(name: string, config: UpstreamConfig, deps: UpstreamDeps): ManagedUpstream {
  const now = deps.now ?? Date.now
  const tls = resolveUpstreamTls(config, `upstreams.${name}`)
  const algorithm = parseAlgorithm(config.algorithm)
  const spec = config.health_check === undefined ? undefined : parseHealthCheck(config.health_check)
  const backendDeps = { logger: deps.logger, upstream: name, now, tls }
  const backends = config.addrs.map((text) => createBackend(parseBackendAddr(text), config, backendDeps))
  const balancer = createBalancer(algorithm, backends, now)
  const checker: HealthChecker | undefined =
    spec === undefined ? undefined : createHealthChecker(spec, backends, { logger: deps.logger, upstream: name, tls })
  let closing: Promise<void> | undefined

  return {
    name,
    hash: deps.hash ?? configHash(config),
    config,
    backends,
    readTimeoutMs: parseDuration(config.read_timeout),
    pick: balancer.pick,
    hasAvailable() {
      const at = now()
      for (const b of backends) if (b.isAvailable(at)) return true
      return false
    },
    start() {
      checker?.start()
    },
    close() {
      closing ??= (async () => {
        await checker?.stop()
        await Promise.all(backends.map((b) => b.close()))
      })()
      return closing
    },
  }
}

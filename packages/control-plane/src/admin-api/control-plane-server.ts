import { parseListenAddr, storeKeys } from '@fleetgate/schema'
import type { Store } from '@fleetgate/store'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { createCachePurges } from '../cache-purges.ts'
import { createConfigService } from '../config-service.ts'
import { type ControlPlaneMetrics, createControlPlaneMetrics } from '../control-plane-metrics.ts'
import { instrumentService } from '../instrumented-service.ts'
import type { ConfigService } from '../service-types.ts'
import { createAdminApi } from './admin-api.ts'
import type { AdminTokens } from './auth.ts'
import type { AuthFailureLimits } from './auth-failure-limiter.ts'

/** Options of {@link startControlPlane}. */
export interface ControlPlaneOptions {
  /** etcd (fleet) or a local store (standalone); the caller owns it and closes it after `close()`. */
  store: Store
  /** "HOST:PORT" of the admin API; port 0 picks a free one. */
  listen: string
  tokens: AdminTokens
  logger: Logger
  authFailureLimits?: AuthFailureLimits
}

/** A running control plane. */
export interface ControlPlane {
  /** Base URL of the admin API, for example `http://127.0.0.1:9180`. */
  readonly url: string
  readonly port: number
  readonly service: ConfigService
  readonly app: FastifyInstance
  /** Publishes, validation failures, rollbacks, store errors, generation and fleet gauges (`GET /metrics`). */
  readonly metrics: ControlPlaneMetrics
  /** Stops accepting requests, then stops the service's watches. The store stays open. */
  close(): Promise<void>
}

/**
 * Starts the config service on `store` (watching desired/ and nodes/) and serves the admin API on
 * `listen`. Used by `fleetgate control-plane` on etcd and by `fleetgate standalone` on a local store.
 */
export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const { host, port } = parseListenAddr(options.listen)
  const metrics = createControlPlaneMetrics()
  const service = createConfigService(options.store, {
    logger: options.logger,
    onEditPublish: (result, seconds) => metrics.recordPublish('edit', result, seconds),
  })
  metrics.observe(service)
  await service.start()
  const app = createAdminApi({
    service: instrumentService(service, metrics),
    metrics: metrics.registry,
    cachePurges: createCachePurges(options.store),
    tokens: options.tokens,
    logger: options.logger,
    ...(options.authFailureLimits ? { authFailureLimits: options.authFailureLimits } : {}),
    ready: async () => void (await options.store.get(storeKeys.current)),
  })
  try {
    await app.listen({ host, port })
  } catch (err) {
    await service.close()
    throw err
  }
  const bound = (app.server.address() as { port: number }).port
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host
  options.logger.info({ listen: `${host}:${bound}` }, 'admin API listening')
  return {
    url: `http://${shownHost}:${bound}`,
    port: bound,
    service,
    app,
    metrics,
    async close() {
      await app.close()
      await service.close()
    },
  }
}

import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type { CachePurges } from '../cache-purges.ts'
import type { ConfigService } from '../service-types.ts'
import { type AdminTokens, installAuth } from './auth.ts'
import type { AuthFailureLimits } from './auth-failure-limiter.ts'
import { installBodyParsers } from './body-formats.ts'
import { registerCachePurgeRoutes } from './cache-purge-routes.ts'
import { registerConfigRoutes } from './config-routes.ts'
import { errorBody, installErrorReplies } from './error-reply.ts'
import { registerPublishRoutes } from './publish-routes.ts'
import { registerResourceRoutes } from './resource-routes.ts'
import { registerUiRoutes } from './ui-routes.ts'
import { registerVersionRoutes } from './version-routes.ts'
import { registerWhoamiRoutes } from './whoami-routes.ts'

/** Options of {@link createAdminApi}. */
export interface AdminApiOptions {
  service: ConfigService
  tokens: AdminTokens
  logger: Logger
  /** Largest request body. Default 16 MiB: a config of 10,000 locations fits. */
  bodyLimit?: number
  /** Wrong tokens allowed per client address. Default 10 a minute. */
  authFailureLimits?: AuthFailureLimits
  /** Resolves when the control plane can serve (the store answers); `/readyz` is 503 while it throws. Default: reads the publish status. */
  ready?: () => Promise<void>
  /** Served at `GET /metrics` without a token (like `/livez`), for Prometheus. */
  metrics?: Registry
  /** Serves `POST /api/v1/cache/purge` (fleet-wide cache purges); without it that route is 404. */
  cachePurges?: CachePurges
}

/** Default body limit. */
export const ADMIN_BODY_LIMIT = 16 * 1024 * 1024

/** Credentials never reach the log, whatever a future serializer adds. */
const REDACTED = { paths: ['req.headers.authorization', 'req.headers["x-api-key"]'], censor: '[redacted]' }

/**
 * What a request log line shows: no headers, and the path without its query string, where a client
 * might put a token by mistake (it is never accepted there, but it should not be kept either).
 */
function requestSummary(request: FastifyRequest): Record<string, unknown> {
  return { method: request.method, url: request.url.split('?')[0], remoteAddress: request.ip }
}

/** How long `/readyz` waits for the store before answering 503. */
const READY_TIMEOUT_MS = 2000

/**
 * The admin API (DESIGN.md, "Admin API") as a fastify instance, not yet listening: JSON (and TOML)
 * under /api/v1 behind bearer tokens, plus unauthenticated `/livez` and `/readyz`. A thin layer: all
 * decisions are the service's, and its ServiceErrors become the HTTP statuses of SERVICE_ERRORS.
 */
export function createAdminApi(options: AdminApiOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger.child({ component: 'admin-api' }, { redact: REDACTED, serializers: { req: requestSummary } }),
    bodyLimit: options.bodyLimit ?? ADMIN_BODY_LIMIT,
    // A malformed URL fails before routing, so it would bypass the error handler and its body shape.
    frameworkErrors: (err, _request, reply) => {
      ;(reply as unknown as FastifyReply).code(400).send(errorBody(err.code, err.message, [{ path: '', message: err.message }]))
    },
    // Closing must not wait for idle keep-alive clients (a UI tab, a ctl run) to go away.
    forceCloseConnections: true,
  }) as unknown as FastifyInstance
  installErrorReplies(app)
  installBodyParsers(app)
  installAuth(app, options.tokens, options.authFailureLimits)
  registerProbes(app, options.ready ?? (async () => void (await options.service.publishStatus())))
  if (options.metrics !== undefined) registerMetrics(app, options.metrics)
  registerUiRoutes(app)
  app.register(
    async (api) => {
      registerConfigRoutes(api, options.service)
      registerPublishRoutes(api, options.service)
      registerVersionRoutes(api, options.service)
      registerWhoamiRoutes(api)
      registerResourceRoutes(api, options.service)
      if (options.cachePurges !== undefined) registerCachePurgeRoutes(api, options.cachePurges)
    },
    { prefix: '/api/v1' },
  )
  return app
}

/** `GET /metrics`: the Prometheus text format; no token needed (counts and states only, no config content). */
function registerMetrics(app: FastifyInstance, registry: Registry): void {
  app.get('/metrics', { config: { access: 'public' }, logLevel: 'warn' }, async (_request, reply) => {
    const text = await registry.metrics()
    return reply.type(registry.contentType).send(text)
  })
}

/** `/livez` (the process answers) and `/readyz` (the store answers too); no token needed. */
function registerProbes(app: FastifyInstance, ready: () => Promise<void>): void {
  // Probes come every few seconds: only their failures are worth a log line.
  app.get('/livez', { config: { access: 'public' }, logLevel: 'warn' }, async () => ({ status: 'ok' }))
  app.get('/readyz', { config: { access: 'public' }, logLevel: 'warn' }, async (request, reply) => {
    try {
      await Promise.race([
        ready(),
        new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer in ${READY_TIMEOUT_MS}ms`)), READY_TIMEOUT_MS).unref()),
      ])
      return { status: 'ok' }
    } catch (err) {
      request.log.warn({ err }, 'admin API not ready')
      return reply.code(503).send(errorBody('NOT_READY', `the config store does not answer: ${(err as Error).message}`))
    }
  })
}

import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Actor } from '../service-types.ts'
import { AuthFailureLimiter, type AuthFailureLimits } from './auth-failure-limiter.ts'
import { errorBody } from './error-reply.ts'

/** The API tokens of each role. An empty admin list means nobody can write. */
export interface AdminTokens {
  admin: string[]
  readonly: string[]
}

/** Whether a route reads or changes state; read-only tokens may only call `read` routes. */
export type RouteAccess = 'read' | 'write' | 'public'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Default `read`; `public` skips authentication (probes). */
    access?: RouteAccess
  }
  interface FastifyRequest {
    /** Who is calling, set by the auth hook on every authenticated request. */
    actor: Actor | null
  }
}

/** Longest author name taken from X-Fleetgate-Author; the rest is cut. */
const MAX_AUTHOR_LENGTH = 200

/**
 * Installs authentication on every route not marked `public` (unknown URLs too, so they answer 401
 * rather than revealing which routes exist): 401 without a valid token, 403 for a read-only token on
 * a write, 429 with Retry-After once an address has sent too many wrong tokens.
 */
export function installAuth(app: FastifyInstance, tokens: AdminTokens, limits?: AuthFailureLimits): void {
  const roleOf = tokenMatcher(tokens)
  const limiter = new AuthFailureLimiter(limits)
  app.decorateRequest('actor', null)
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config?.access === 'public') return
    const retryAfter = limiter.blockedFor(request.ip)
    if (retryAfter > 0)
      return refuse(reply.header('retry-after', String(retryAfter)), 429, 'RATE_LIMITED', 'too many failed authentication attempts')
    const token = presentedToken(request)
    if (token === undefined) {
      return refuse(
        reply.header('www-authenticate', 'Bearer'),
        401,
        'UNAUTHORIZED',
        'missing token (Authorization: Bearer TOKEN or X-API-KEY)',
      )
    }
    const role = roleOf(token)
    if (role === undefined) {
      limiter.fail(request.ip)
      request.log.warn({ ip: request.ip }, 'admin API: wrong token')
      return refuse(reply.header('www-authenticate', 'Bearer error="invalid_token"'), 401, 'UNAUTHORIZED', 'invalid token')
    }
    if (request.routeOptions.config?.access === 'write' && role !== 'admin') {
      return refuse(reply, 403, 'FORBIDDEN', 'this token is read-only')
    }
    request.actor = { role, name: authorOf(request) ?? role }
  })
}

function refuse(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).send(errorBody(code, message))
}

/**
 * The token of a request: `Authorization: Bearer T`, else `X-API-KEY: T`. Never a query parameter
 * or a cookie, which end up in access logs and browser history.
 */
function presentedToken(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization
  if (authorization) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization)
    return m ? m[1] : undefined
  }
  const apiKey = request.headers['x-api-key']
  const key = Array.isArray(apiKey) ? apiKey[0] : apiKey
  return key ? key.trim() : undefined
}

function authorOf(request: FastifyRequest): string | undefined {
  const raw = request.headers['x-fleetgate-author']
  const author = (Array.isArray(raw) ? raw[0] : raw)?.trim()
  return author ? author.slice(0, MAX_AUTHOR_LENGTH) : undefined
}

/**
 * A role lookup in constant time: both sides are hashed to equal-length digests and every token
 * is compared, so neither a token's length nor which one matched shows in the timing.
 */
export function tokenMatcher(tokens: AdminTokens): (token: string) => Actor['role'] | undefined {
  const digest = (text: string) => createHash('sha256').update(text).digest()
  const known = [
    ...tokens.admin.map((t) => ({ digest: digest(t), role: 'admin' as const })),
    ...tokens.readonly.map((t) => ({ digest: digest(t), role: 'readonly' as const })),
  ]
  return (token) => {
    const presented = digest(token)
    let role: Actor['role'] | undefined
    for (const entry of known) {
      if (timingSafeEqual(entry.digest, presented) && role === undefined) role = entry.role
    }
    return role
  }
}

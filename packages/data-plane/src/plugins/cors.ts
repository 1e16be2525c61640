import { CorsSchema } from '@fleetgate/schema'
import { appendFlatToken, setFlatHeader } from './flat-headers.ts'
import { compileOriginMatcher } from './origin-matcher.ts'
import { refuse } from './refusal.ts'
import { definePlugin, type PluginReply } from './types.ts'

/**
 * CORS: answers preflights itself (204, or 403 for an origin or method not allowed) and adds
 * Access-Control-* headers to the responses of allowed origins; Vary: Origin on every response
 * whose headers depend on the Origin, so shared caches keep them apart.
 */
export default definePlugin({
  name: 'cors',
  priority: 4000,
  schema: CorsSchema,
  create(config) {
    const origins = compileOriginMatcher(config.allow_origins)
    // The schema refuses this too; kept for configs compiled without it.
    if (origins.any && config.allow_credentials) {
      throw new Error('allow_origins: allow_credentials = true cannot go with "*": list the origins explicitly')
    }
    const methods = new Set(config.allow_methods.map((m) => m.toUpperCase()))
    const allowMethods = [...methods].join(', ')
    const allowHeaders = config.allow_headers.join(', ')
    const expose = config.expose_headers.join(', ')
    // "*" is answered as "*" (never echoing the origin): it cannot go with credentials (refused above).
    const wildcard = origins.any
    const allowOrigin = (origin: string) => (wildcard ? '*' : origin)

    const preflight = (origin: string, method: string, requested: string | undefined): PluginReply => {
      if (!origins.matches(origin) || !methods.has(method.toUpperCase())) {
        return refuse('FORBIDDEN', 'CORS preflight refused: origin or method not allowed', { vary: 'Origin' })
      }
      const headers: Record<string, string> = {
        'access-control-allow-origin': allowOrigin(origin),
        'access-control-allow-methods': allowMethods,
        'access-control-max-age': String(config.max_age),
        vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
      }
      const allowed = allowHeaders !== '' ? allowHeaders : requested
      if (allowed !== undefined && allowed !== '') headers['access-control-allow-headers'] = allowed
      if (config.allow_credentials) headers['access-control-allow-credentials'] = 'true'
      return { status: 204, headers }
    }

    return {
      request(ctx) {
        if (ctx.method !== 'OPTIONS') return undefined
        const origin = ctx.header('origin')
        const method = ctx.header('access-control-request-method')
        if (origin === undefined || method === undefined) return undefined
        return preflight(origin, method, ctx.header('access-control-request-headers'))
      },
      response(ctx, head) {
        if (!wildcard) appendFlatToken(head.headers, 'Vary', 'Origin')
        const origin = ctx.header('origin')
        if (origin === undefined || !origins.matches(origin)) return
        setFlatHeader(head.headers, 'Access-Control-Allow-Origin', allowOrigin(origin))
        if (config.allow_credentials) setFlatHeader(head.headers, 'Access-Control-Allow-Credentials', 'true')
        if (expose !== '') setFlatHeader(head.headers, 'Access-Control-Expose-Headers', expose)
      },
    }
  },
})

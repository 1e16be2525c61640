import { RedirectSchema } from '@fleetgate/schema'
import { isValidHost } from '../proxy/authority.ts'
import { requestHost } from '../proxy/request-headers.ts'
import { refuse } from './refusal.ts'
import { definePlugin, type RequestContext } from './types.ts'

/**
 * Redirects plain http to https, other hosts to one host, and paths under a prefix. A Location
 * built from the request's Host is only built from a valid one (uri-host[:port]); another
 * Host ("evil.com/@x") is answered 400 BAD_REQUEST rather than copied into the URL.
 */
export default definePlugin({
  name: 'redirect',
  priority: 11500,
  schema: RedirectSchema,
  create(config) {
    const host = config.host?.toLowerCase()
    const prefix = config.prefix
    const badHost = refuse('BAD_REQUEST', 'invalid Host header')
    const target = (ctx: RequestContext): string | undefined | null => {
      const toHttps = config.https && ctx.scheme === 'http'
      const toHost = host !== undefined && ctx.host !== host
      const toPrefix = prefix !== undefined && ctx.path !== prefix && !ctx.path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`)
      if (!toHttps && !toHost && !toPrefix) return undefined
      const scheme = toHttps ? 'https' : ctx.scheme
      // The Location takes the client's Host unless it goes to the configured host.
      if (host === undefined || (!toHttps && !toHost)) {
        const sent = requestHost(ctx.req)
        if (sent === undefined || !isValidHost(sent)) return null
      }
      let authority = host ?? ctx.host
      if (toHttps) authority += config.https_port === 443 ? '' : `:${config.https_port}`
      else if (!toHost) authority = ctx.header('host') ?? authority
      const path = toPrefix ? `${prefix.replace(/\/$/, '')}${ctx.path}` : ctx.path
      const query = config.keep_query && ctx.query !== '' ? `?${ctx.query}` : ''
      return `${scheme}://${authority}${path}${query}`
    }
    return {
      request(ctx) {
        const location = target(ctx)
        if (location === undefined) return undefined
        if (location === null) return badHost
        return {
          status: config.status,
          headers: { location, 'content-type': 'text/plain; charset=utf-8' },
          body: `Redirecting to ${location}\n`,
        }
      },
    }
  },
})

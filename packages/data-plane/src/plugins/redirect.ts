import { RedirectSchema } from '@fleetgate/schema'
import { definePlugin, type RequestContext } from './types.ts'

/** Redirects plain http to https, other hosts to one host, and paths under a prefix. */
export default definePlugin({
  name: 'redirect',
  priority: 11500,
  schema: RedirectSchema,
  create(config) {
    const host = config.host?.toLowerCase()
    const prefix = config.prefix
    const target = (ctx: RequestContext): string | undefined => {
      const toHttps = config.https && ctx.scheme === 'http'
      const toHost = host !== undefined && ctx.host !== host
      const toPrefix = prefix !== undefined && ctx.path !== prefix && !ctx.path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`)
      if (!toHttps && !toHost && !toPrefix) return undefined
      const scheme = toHttps ? 'https' : ctx.scheme
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
        return {
          status: config.status,
          headers: { location, 'content-type': 'text/plain; charset=utf-8' },
          body: `Redirecting to ${location}\n`,
        }
      },
    }
  },
})

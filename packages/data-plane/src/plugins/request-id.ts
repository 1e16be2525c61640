import { RequestIdSchema } from '@fleetgate/schema'
import { setFlatHeader } from './flat-headers.ts'
import { definePlugin } from './types.ts'
import { uuidV7 } from './uuid-v7.ts'

/** Ids a client may choose: printable, no spaces or separators that could split a log line or a header. */
const WELL_FORMED = /^[A-Za-z0-9._:@+=\-/]{1,200}$/

/** Keeps a well-formed incoming request id or generates a UUID v7; forwards it upstream and returns it. */
export default definePlugin({
  name: 'request_id',
  priority: 12000,
  schema: RequestIdSchema,
  create(config) {
    const lower = config.header.toLowerCase()
    return {
      request(ctx) {
        const incoming = config.trust_incoming ? ctx.header(lower) : undefined
        ctx.vars.request_id = incoming !== undefined && WELL_FORMED.test(incoming) ? incoming : uuidV7()
        return undefined
      },
      upstream_request(ctx, upstream) {
        // Lower-cased upstream (as HTTP/2 requires): undici then takes the name without a copy.
        setFlatHeader(upstream.headers, lower, ctx.vars.request_id as string)
      },
      response(ctx, head) {
        if (config.return_header && ctx.vars.request_id !== undefined) setFlatHeader(head.headers, config.header, ctx.vars.request_id)
      },
    }
  },
})

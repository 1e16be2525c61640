import { RequestSizeLimitSchema } from '@fleetgate/schema'
import { parseSize } from '@fleetgate/schema/runtime'
import { refuse } from './refusal.ts'
import { definePlugin } from './types.ts'

/**
 * Refuses bodies over max_size with 413: at once when Content-Length says so, otherwise by
 * lowering the request's body limit so the stream is cut as the bytes pass (never buffered).
 */
export default definePlugin({
  name: 'request_size_limit',
  priority: 11000,
  schema: RequestSizeLimitSchema,
  create(config) {
    const max = parseSize(config.max_size)
    // The body is left unread, so the connection cannot be reused for another request.
    const refusal = refuse('BODY_TOO_LARGE', `request body exceeds ${max} bytes`, { connection: 'close' })
    return {
      request(ctx) {
        const length = ctx.header('content-length')
        if (length !== undefined && Number(length) > max) return refusal
        if (max < ctx.bodyLimit) ctx.bodyLimit = max
        return undefined
      },
    }
  },
})

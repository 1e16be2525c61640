import { PingSchema } from '@fleetgate/schema'
import { definePlugin } from './types.ts'

/** Answers one exact path itself: a health endpoint that never reaches an upstream. */
export default definePlugin({
  name: 'ping',
  priority: 11900,
  schema: PingSchema,
  create(config) {
    const reply = {
      status: 200,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
      body: Buffer.from(config.body),
    }
    return { request: (ctx) => (ctx.path === config.path ? reply : undefined) }
  },
})

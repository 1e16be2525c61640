import { LimitSchema } from '@fleetgate/schema'
import { setFlatHeader } from './flat-headers.ts'
import { compileLimitKey } from './limit-key.ts'
import { refuse } from './refusal.ts'
import { createTokenBuckets, type TakeResult } from './token-buckets.ts'
import { definePlugin, type HookResult, type RequestContext } from './types.ts'

const SWEEP_INTERVAL_MS = 10_000

/**
 * Rate (token bucket: `rate` per second, `burst` at once) and in-flight limits per key, 429
 * past either, with RateLimit-* and Retry-After headers. State lives in the instance, so it
 * survives reloads that keep this plugin's config, and is per process (per worker).
 */
export default definePlugin({
  name: 'limit',
  priority: 1000,
  schema: LimitSchema,
  create(config, env) {
    if (config.rate === undefined && config.inflight === undefined) throw new Error('set rate, inflight, or both')
    const keyOf = compileLimitKey(config.key)
    const rate = config.rate
    const burst = config.burst ?? Math.max(1, Math.ceil(rate ?? 1))
    const buckets = rate === undefined ? undefined : createTokenBuckets(rate, burst, config.max_keys)
    if (buckets !== undefined) {
      const timer = setInterval(() => buckets.sweep(performance.now()), SWEEP_INTERVAL_MS)
      timer.unref()
      env.signal.addEventListener('abort', () => clearInterval(timer), { once: true })
    }
    const inflight = new Map<string, number>()
    const limitHeader = String(burst)
    // Per-request state in the context's vars under this instance's own names (no WeakMap per request).
    const takenVar = `limit.${env.name}.taken`
    const heldVar = `limit.${env.name}.held`

    const rateLimit = (ctx: RequestContext, key: string): HookResult => {
      if (buckets === undefined) return undefined
      const result = buckets.take(key, performance.now())
      if (config.headers) ctx.vars[takenVar] = result
      // The access log's {rate_limit} formats it only when a format asks for it.
      ctx.vars.rate_limit = result
      if (result.allowed) return undefined
      return refuse('RATE_LIMITED', 'too many requests', { 'retry-after': String(result.retryAfterS) })
    }

    return {
      request(ctx) {
        const key = keyOf(ctx)
        const limited = rateLimit(ctx, key)
        if (limited !== undefined || config.inflight === undefined) return limited
        const count = inflight.get(key) ?? 0
        if (count >= config.inflight) {
          ctx.vars.rate_limit = 'refused inflight'
          return refuse('TOO_MANY_INFLIGHT', 'too many requests in flight', { 'retry-after': '1' })
        }
        inflight.set(key, count + 1)
        ctx.vars[heldVar] = key
        return undefined
      },
      response(ctx, head) {
        const result = ctx.vars[takenVar] as TakeResult | undefined
        if (result === undefined) return
        setFlatHeader(head.headers, 'RateLimit-Limit', limitHeader)
        setFlatHeader(head.headers, 'RateLimit-Remaining', String(result.remaining))
        setFlatHeader(head.headers, 'RateLimit-Reset', String(result.resetS))
      },
      log(ctx) {
        const key = ctx.vars[heldVar] as string | undefined
        if (key === undefined) return
        const count = (inflight.get(key) ?? 1) - 1
        if (count <= 0) inflight.delete(key)
        else inflight.set(key, count)
      },
    }
  },
})

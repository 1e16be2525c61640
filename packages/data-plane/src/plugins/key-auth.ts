import { hash, timingSafeEqual } from 'node:crypto'
import { KeyAuthSchema } from '@fleetgate/schema'
import { removeFlatHeader, setFlatHeader } from './flat-headers.ts'
import { stripQueryParam } from './query-param.ts'
import { refuse } from './refusal.ts'
import { definePlugin } from './types.ts'

// One-shot hashing: no Hash object per request.
const sha256 = (text: string) => hash('sha256', text, 'buffer')

/**
 * API keys from a header or a query parameter. Keys are kept only as sha256 digests (plain
 * keys are hashed at compile): a presented key is hashed, looked up by digest, and confirmed
 * with a constant-time compare, so neither timing nor a memory dump gives keys away.
 */
export default definePlugin({
  name: 'key_auth',
  priority: 2500,
  schema: KeyAuthSchema,
  create(config) {
    if (config.header === '' && config.query === '') throw new Error('set header or query (or both)')
    const byDigest = new Map<string, { digest: Buffer; consumer: string }>()
    config.consumers.forEach((c, i) => {
      if ((c.key === undefined) === (c.key_sha256 === undefined)) throw new Error(`consumers.${i}: set exactly one of key and key_sha256`)
      const digest = c.key !== undefined ? sha256(c.key) : Buffer.from(c.key_sha256 as string, 'hex')
      byDigest.set(digest.toString('latin1'), { digest, consumer: c.name })
    })
    const header = config.header.toLowerCase()
    const refusal = refuse('UNAUTHORIZED', 'a valid API key is required')
    return {
      request(ctx) {
        const key = (header === '' ? undefined : ctx.header(header)) ?? (config.query === '' ? undefined : ctx.queryParam(config.query))
        if (key === undefined || key === '') return refusal
        const digest = sha256(key)
        const entry = byDigest.get(digest.toString('latin1'))
        if (entry === undefined || !timingSafeEqual(entry.digest, digest)) return refusal
        ctx.vars.consumer = entry.consumer
        return undefined
      },
      upstream_request(ctx, upstream) {
        if (config.hide_credentials) {
          if (header !== '') removeFlatHeader(upstream.headers, header)
          if (config.query !== '') upstream.path = stripQueryParam(upstream.path, config.query)
        }
        if (config.consumer_header !== '') setFlatHeader(upstream.headers, config.consumer_header, ctx.vars.consumer as string)
      },
    }
  },
})

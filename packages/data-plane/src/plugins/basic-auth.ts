import { hash } from 'node:crypto'
import { BasicAuthSchema } from '@fleetgate/schema'
import { removeFlatHeader, setFlatHeader } from './flat-headers.ts'
import { type PasswordHash, parsePasswordHash } from './password-hash.ts'
import { refuse } from './refusal.ts'
import { definePlugin, type HookResult, type RequestContext } from './types.ts'

/** Verified credentials remembered per instance, so scrypt runs once per user and not per request. */
const VERIFIED_CACHE_SIZE = 1000

/** HTTP Basic authentication against scrypt or sha256 password hashes; the user is the consumer. */
export default definePlugin({
  name: 'basic_auth',
  priority: 2520,
  schema: BasicAuthSchema,
  create(config) {
    const users = new Map<string, PasswordHash>()
    config.users.forEach((u, i) => {
      try {
        users.set(u.name, parsePasswordHash(u.password))
      } catch (err) {
        throw new Error(`users.${i}.password: ${(err as Error).message}`, { cause: err })
      }
    })
    // Keyed by a digest of the whole header: a hit proves the same user:password verified before.
    const verified = new Map<string, string>()
    const refusal = refuse('UNAUTHORIZED', 'valid credentials are required', {
      'www-authenticate': `Basic realm="${config.realm.replace(/["\\]/g, '')}", charset="UTF-8"`,
    })

    // An unknown user is checked against some user's hash all the same, so timing does not tell which users exist.
    const decoy = users.values().next().value as PasswordHash
    const check = async (ctx: RequestContext, cacheKey: string, user: string, password: string): Promise<HookResult> => {
      const stored = users.get(user)
      const ok = await (stored ?? decoy).verify(password)
      if (stored === undefined || !ok) return refusal
      if (verified.size >= VERIFIED_CACHE_SIZE) verified.clear()
      verified.set(cacheKey, user)
      ctx.vars.consumer = user
      return undefined
    }

    return {
      request(ctx) {
        const header = ctx.header('authorization')
        if (header === undefined || !/^basic /i.test(header)) return refusal
        const cacheKey = hash('sha256', header, 'base64')
        const known = verified.get(cacheKey)
        if (known !== undefined) {
          ctx.vars.consumer = known
          return undefined
        }
        const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8')
        const colon = decoded.indexOf(':')
        if (colon < 0) return refusal
        return check(ctx, cacheKey, decoded.slice(0, colon), decoded.slice(colon + 1))
      },
      upstream_request(ctx, upstream) {
        if (config.hide_credentials) removeFlatHeader(upstream.headers, 'authorization')
        if (config.consumer_header !== '') setFlatHeader(upstream.headers, config.consumer_header, ctx.vars.consumer as string)
      },
    }
  },
})

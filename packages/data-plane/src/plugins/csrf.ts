import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { CsrfSchema } from '@fleetgate/schema'
import { parseDuration } from '@fleetgate/schema/runtime'
import { refuse } from './refusal.ts'
import { definePlugin } from './types.ts'

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])
const TOKEN = /^([A-Za-z0-9_-]{22})\.([0-9a-z]{1,11})\.([A-Za-z0-9_-]{43})$/

/**
 * CSRF protection by double submit: GET token_path answers a token (JSON body and a cookie
 * readable by the page's script); an unsafe request (not GET, HEAD, OPTIONS or TRACE) must
 * send the same token in the header, and it must carry a valid HMAC and be unexpired. A token
 * is "NONCE.EXPIRY.MAC": it cannot be minted without the key, so a cookie planted by a sibling
 * subdomain is refused too.
 */
export default definePlugin({
  name: 'csrf',
  priority: 2970,
  schema: CsrfSchema,
  create(config) {
    const ttlS = Math.max(1, Math.floor(parseDuration(config.ttl) / 1000))
    const header = config.name.toLowerCase()
    const mac = (payload: string) => createHmac('sha256', config.key).update(payload).digest('base64url')
    const refusal = refuse('FORBIDDEN', 'CSRF token missing or invalid')
    const cookieAttributes = `Path=${config.cookie_path.replace(/[;\s]/g, '')}; Max-Age=${ttlS}; SameSite=${config.same_site}`

    const issue = (): string => {
      const payload = `${randomBytes(16).toString('base64url')}.${Math.ceil(Date.now() / 1000 + ttlS).toString(36)}`
      return `${payload}.${mac(payload)}`
    }
    const isValid = (token: string): boolean => {
      const m = TOKEN.exec(token)
      if (m === null || Number.parseInt(m[2] as string, 36) * 1000 <= Date.now()) return false
      return timingSafeEqual(Buffer.from(m[3] as string), Buffer.from(mac(`${m[1]}.${m[2]}`)))
    }

    return {
      request(ctx) {
        if (SAFE_METHODS.has(ctx.method)) {
          if (ctx.method !== 'GET' || ctx.path !== config.token_path) return undefined
          const token = issue()
          const secure = ctx.scheme === 'https' || config.same_site === 'None' ? '; Secure' : ''
          return {
            status: 200,
            headers: {
              'content-type': 'application/json',
              'cache-control': 'no-store',
              'set-cookie': `${config.name}=${token}; ${cookieAttributes}${secure}`,
              [header]: token,
            },
            body: `${JSON.stringify({ token, expires_in: ttlS })}\n`,
          }
        }
        const sent = ctx.header(header)
        const cookie = ctx.cookie(config.name)
        if (sent === undefined || cookie === undefined || !isValid(sent)) return refusal
        const a = Buffer.from(sent)
        const b = Buffer.from(cookie)
        return a.length === b.length && timingSafeEqual(a, b) ? undefined : refusal
      },
    }
  },
})

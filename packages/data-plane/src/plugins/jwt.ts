import { JwtSchema } from '@fleetgate/schema'
import type { JWTPayload } from 'jose'
import { removeFlatHeader } from './flat-headers.ts'
import { resolveJwtKey } from './jwt-key.ts'
import { createJwtVerifier, type JwtVerdict } from './jwt-verifier.ts'
import { stripQueryParam } from './query-param.ts'
import { refuse } from './refusal.ts'
import { stripFlatCookie } from './request-cookie.ts'
import { definePlugin, type HookResult, type PluginReply, type RequestContext } from './types.ts'

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const BEARER = /^bearer\s+/i
/** A JWS in compact form: three base64url parts (what a bare Authorization value must look like). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

/**
 * JSON Web Tokens (jose): from a header ("Bearer " optional), a query parameter or a cookie;
 * verified with a secret, a public key or a remote JWKS under an algorithm allow-list, then
 * exp/nbf (clock_skew), iss, aud and required claims. 401 with a Bearer challenge (RFC 6750)
 * otherwise. The consumer claim becomes vars.consumer; claims_to_headers go upstream. Tokens
 * and secrets are never logged.
 */
export default definePlugin({
  name: 'jwt',
  priority: 2510,
  schema: JwtSchema,
  create(config, env) {
    if (config.header === '' && config.query === '' && config.cookie === '') throw new Error('set header, query or cookie')
    const verify = createJwtVerifier(config, resolveJwtKey(config))
    // Upstream names lower-cased once here (as HTTP/2 requires): undici then takes them without a copy.
    const claimHeaders = Object.entries(config.claims_to_headers).map(([claim, header]): [string, string] => {
      if (!HEADER_NAME.test(header)) throw new Error(`claims_to_headers.${claim}: invalid header name "${header}"`)
      return [claim, header.toLowerCase()]
    })
    const header = config.header.toLowerCase()
    const isAuthorization = header === 'authorization'
    const realm = config.realm === '' ? '' : `realm="${config.realm.replace(/["\\]/g, '')}"`
    const challenge = (extra: string) => ['Bearer', [realm, extra].filter((p) => p !== '').join(', ')].join(' ').trim()
    const missing = refuse('UNAUTHORIZED', 'a valid JWT is required', { 'www-authenticate': challenge('') })
    // One reply per reason (a small fixed set), built on first use.
    const refusals = new Map<string, PluginReply>()
    const refusalFor = (reason: string) => {
      let reply = refusals.get(reason)
      if (reply === undefined) {
        const www = challenge(`error="invalid_token", error_description="${reason.replace(/["\\]/g, '')}"`)
        reply = refuse('UNAUTHORIZED', `invalid JWT: ${reason}`, { 'www-authenticate': www })
        refusals.set(reason, reply)
      }
      return reply
    }
    const claimsVar = `jwt.${env.name}.claims`

    const tokenOf = (ctx: RequestContext): string | undefined => {
      if (header !== '') {
        const value = ctx.header(header)
        if (value !== undefined) {
          if (BEARER.test(value)) return value.replace(BEARER, '').trim()
          const bare = value.trim()
          // Authorization carries other schemes too (Basic, Digest): only a bare value shaped
          // like a JWT is taken as one; anything else counts as no token (the plain challenge).
          if (!isAuthorization || COMPACT_JWS.test(bare)) return bare
        }
      }
      if (config.query !== '') {
        const value = ctx.queryParam(config.query)
        if (value !== undefined) return value
      }
      return config.cookie === '' ? undefined : ctx.cookie(config.cookie)
    }

    const settle = (ctx: RequestContext, verdict: JwtVerdict): HookResult => {
      if (!verdict.ok) {
        if (verdict.keysUnavailable) env.logger.warn({ jwks: config.jwks_url }, 'jwt: signing keys unavailable')
        return refusalFor(verdict.reason)
      }
      ctx.vars[claimsVar] = verdict.claims
      const consumer = verdict.claims[config.consumer_claim]
      if (typeof consumer === 'string' || typeof consumer === 'number') ctx.vars.consumer = String(consumer)
      return undefined
    }

    return {
      request(ctx) {
        const token = tokenOf(ctx)
        if (token === undefined || token === '') return missing
        const verdict = verify(token)
        return verdict instanceof Promise ? verdict.then((v) => settle(ctx, v)) : settle(ctx, verdict)
      },
      upstream_request(ctx, upstream) {
        if (config.hide_credentials) {
          if (header !== '') removeFlatHeader(upstream.headers, header)
          if (config.query !== '') upstream.path = stripQueryParam(upstream.path, config.query)
          if (config.cookie !== '') stripFlatCookie(upstream.headers, config.cookie)
        }
        if (claimHeaders.length === 0) return
        const claims = ctx.vars[claimsVar] as JWTPayload
        for (const [claim, name] of claimHeaders) {
          // A client-sent header of that name is never passed on as if it came from the token.
          removeFlatHeader(upstream.headers, name)
          const value = headerValue(claims[claim])
          if (value !== undefined) upstream.headers.push(name, value)
        }
      },
    }
  },
})

/** A claim as a header value: strings as they are (percent-encoded past printable ASCII), lists joined, objects as JSON. */
function headerValue(claim: unknown): string | undefined {
  if (claim === undefined || claim === null) return undefined
  let text: string
  if (typeof claim === 'string') text = claim
  else if (Array.isArray(claim) && claim.every((c) => typeof c !== 'object')) text = claim.join(', ')
  else if (typeof claim === 'object') text = JSON.stringify(claim)
  else text = String(claim)
  return /^[\t\x20-\x7e]*$/.test(text) ? text : encodeURIComponent(text)
}

import type { JwtConfig } from '@fleetgate/schema'
import { parseDuration } from '@fleetgate/schema/runtime'
import { type JWTPayload, type JWTVerifyOptions, jwtVerify } from 'jose'
import type { JwtKey } from './jwt-key.ts'

/** A verified token's claims, or why it was refused (a short text safe to show the client). */
export type JwtVerdict = { ok: true; claims: JWTPayload } | { ok: false; reason: string; keysUnavailable: boolean }

/** Verifies one compact JWS; never throws, never returns the token in a reason. */
export type JwtVerifier = (token: string) => Promise<JwtVerdict>

/**
 * Builds the verifier of a jwt plugin instance: signature with `key` under its algorithm
 * allow-list, then exp/nbf (with clock_skew), iss, aud and the required claims (jose).
 * `now` replaces the clock (tests of fixed example vectors).
 */
export function createJwtVerifier(config: JwtConfig, key: JwtKey, now?: () => Date): JwtVerifier {
  const base: JWTVerifyOptions = {
    algorithms: key.algorithms,
    clockTolerance: Math.floor(parseDuration(config.clock_skew) / 1000),
    requiredClaims: config.required_claims,
    ...(config.issuer === undefined ? {} : { issuer: config.issuer }),
    ...(config.audience === undefined ? {} : { audience: config.audience }),
  }
  const verifyKey = key.key as Parameters<typeof jwtVerify>[1]
  const remote = typeof key.key === 'function'
  return async (token) => {
    try {
      const options = now === undefined ? base : { ...base, currentDate: now() }
      const { payload } = await jwtVerify(token, verifyKey as never, options)
      return { ok: true, claims: payload }
    } catch (err) {
      return refusalOf(err, remote)
    }
  }
}

/** Maps jose's error codes to client-safe reasons. */
function refusalOf(err: unknown, remote: boolean): JwtVerdict {
  const { code, claim } = err as { code?: string; claim?: string }
  const no = (reason: string, keysUnavailable = false): JwtVerdict => ({ ok: false, reason, keysUnavailable })
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return no('token expired')
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return no(claim === 'nbf' ? 'token not yet valid' : `claim ${String(claim).replace(/[^\w.:/-]/g, '')} check failed`)
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return no('invalid signature')
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return no('algorithm not allowed')
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return no('no matching key')
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID':
      return no('signing keys unavailable', true)
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
    case 'ERR_JWT_CLAIM_INVALID':
      return no('malformed token')
    default:
      // A JWKS fetch that failed (connection refused, a non-200 answer) surfaces as another error.
      if (remote && (code === undefined || code === 'ERR_JOSE_GENERIC')) return no('signing keys unavailable', true)
      return no('invalid token')
  }
}

import { createPublicKey, type KeyObject, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { JwtConfig } from '@fleetgate/schema'
import { parseDuration } from '@fleetgate/schema/runtime'
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose'

/** What tokens are verified with: a key (or a JWKS lookup) and the algorithms allowed with it. */
export interface JwtKey {
  readonly key: KeyObject | Uint8Array | JWTVerifyGetKey
  readonly algorithms: string[]
}

const HMAC = ['HS256', 'HS384', 'HS512']
const RSA = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']
const EC_BY_CURVE: Record<string, string> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' }
const ASYMMETRIC = [...RSA, 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']

/**
 * Resolves the jwt plugin's key source (exactly one of secret, public_key, jwks_url) and its
 * algorithm allow-list, once per instance. Algorithms that do not fit the key are refused here,
 * so an HMAC-with-the-public-key token (alg confusion) can never verify; "none" is never allowed.
 */
export function resolveJwtKey(config: JwtConfig): JwtKey {
  const sources = (['secret', 'public_key', 'jwks_url'] as const).filter((k) => config[k] !== undefined)
  if (sources.length !== 1) throw new Error('set exactly one of secret, public_key and jwks_url')
  const wanted = [...new Set([...(config.algorithm === undefined ? [] : [config.algorithm]), ...config.algorithms])]
  if (config.secret !== undefined) {
    const key = config.secret_encoding === 'base64' ? Buffer.from(config.secret, 'base64') : Buffer.from(config.secret, 'utf8')
    if (key.length === 0) throw new Error('secret: empty key')
    return { key: new Uint8Array(key), algorithms: allowed(wanted, HMAC, ['HS256'], 'a secret') }
  }
  if (config.public_key !== undefined) {
    const key = loadPublicKey(config.public_key)
    const fits = algorithmsFor(key)
    return { key, algorithms: allowed(wanted, fits, fits, `a ${key.asymmetricKeyType} key`) }
  }
  const url = parseJwksUrl(config.jwks_url as string)
  const cacheMaxAge = parseDuration(config.jwks_cache)
  const jwks = createRemoteJWKSet(url, {
    cacheMaxAge,
    cooldownDuration: Math.min(30_000, cacheMaxAge),
    timeoutDuration: parseDuration(config.jwks_timeout),
  })
  return { key: jwks, algorithms: allowed(wanted, ASYMMETRIC, ASYMMETRIC, 'a JWKS') }
}

function allowed(wanted: string[], fits: readonly string[], defaults: readonly string[], what: string): string[] {
  if (wanted.length === 0) return [...defaults]
  const misfit = wanted.find((a) => !fits.includes(a))
  if (misfit !== undefined) throw new Error(`algorithms: ${misfit} cannot be used with ${what} (allowed: ${fits.join(', ')})`)
  return wanted
}

function loadPublicKey(value: string): KeyObject {
  let pem = value
  if (!value.includes('-----BEGIN')) {
    try {
      pem = readFileSync(value, 'utf8')
    } catch (err) {
      throw new Error(`public_key: cannot read "${value}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
        cause: err,
      })
    }
  }
  try {
    const key = pem.includes('BEGIN CERTIFICATE') ? new X509Certificate(pem).publicKey : createPublicKey(pem)
    if (key.type !== 'public') return createPublicKey(key)
    return key
  } catch (err) {
    throw new Error(`public_key: not a PEM public key or certificate (${(err as Error).message})`, { cause: err })
  }
}

function algorithmsFor(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return RSA
    case 'rsa-pss':
      return RSA.filter((a) => a.startsWith('PS'))
    case 'ec': {
      const alg = EC_BY_CURVE[key.asymmetricKeyDetails?.namedCurve ?? '']
      if (alg === undefined) throw new Error(`public_key: unsupported curve ${key.asymmetricKeyDetails?.namedCurve}`)
      return [alg]
    }
    case 'ed25519':
      return ['EdDSA', 'Ed25519']
    case 'ed448':
      return ['EdDSA']
    default:
      throw new Error(`public_key: unsupported key type ${key.asymmetricKeyType}`)
  }
}

function parseJwksUrl(text: string): URL {
  let url: URL
  try {
    url = new URL(text)
  } catch (err) {
    throw new Error(`jwks_url: not a URL: "${text}"`, { cause: err })
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`jwks_url: expected http or https, got "${url.protocol}"`)
  return url
}

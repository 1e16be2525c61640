import type { Static } from '@sinclair/typebox'
import { Type } from '@sinclair/typebox'
import { CookieName, FieldValue, HeaderName } from '../header-field.ts'
import { Duration, StringEnum } from '../schema-types.ts'
import { pluginObject } from './plugin-object.ts'
import { registerPluginSchema } from './registry.ts'

/** JWS algorithms a `jwt` plugin may allow; "none" is not one of them. */
export const JWT_ALGORITHMS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const

const Algorithm = StringEnum(JWT_ALGORITHMS)

/** RFC 7518 §3.2: an HMAC key is at least as long as the hash output. */
const HMAC_KEY_BYTES: Readonly<Record<string, number>> = { HS256: 32, HS384: 48, HS512: 64 }

/** `type = "jwt"`: a JSON Web Token verified with a secret, a public key or a remote JWKS (jose). */
export const JwtSchema = registerPluginSchema(
  'jwt',
  pluginObject(
    'jwt',
    {
      secret: Type.Optional(
        Type.String({ minLength: 1, description: 'HMAC key of HS* tokens: at least 32 bytes for HS256, 48 for HS384, 64 for HS512' }),
      ),
      secret_encoding: StringEnum(['utf8', 'base64'] as const, {
        default: 'utf8',
        description: 'utf8: the secret is used as it is; base64: it is base64 or base64url-encoded bytes',
      }),
      public_key: Type.Optional(Type.String({ minLength: 1, description: 'PEM public key or certificate, inline or a file path' })),
      jwks_url: Type.Optional(
        Type.String({ minLength: 1, description: 'http(s) URL of a JWKS; keys are cached and refetched for an unknown kid' }),
      ),
      jwks_cache: Duration('10m', 'how long fetched JWKS keys are used before a refetch'),
      jwks_timeout: Duration('5s', 'timeout of one JWKS fetch'),
      algorithm: Type.Optional(Algorithm),
      algorithms: Type.Array(Algorithm, {
        default: [],
        description:
          'allowed algorithms (with algorithm); default HS256 for a secret, what the key type allows for a public key, every asymmetric one for a JWKS',
      }),
      header: HeaderName({
        optional: true,
        default: 'Authorization',
        description: 'header carrying the token, "Bearer " prefix optional ("" to not read headers)',
      }),
      query: Type.String({ default: '', description: 'query parameter carrying the token ("" for none)' }),
      cookie: CookieName({ optional: true, default: '', description: 'cookie carrying the token ("" for none)' }),
      issuer: Type.Optional(Type.String({ minLength: 1, description: 'required "iss"' })),
      audience: Type.Optional(Type.String({ minLength: 1, description: 'required in "aud"' })),
      required_claims: Type.Array(Type.String({ minLength: 1 }), { default: ['exp'], description: 'claims a token must carry' }),
      clock_skew: Duration('30s', 'leeway for exp and nbf'),
      consumer_claim: Type.String({ default: 'sub', description: 'claim naming the consumer (vars.consumer, access log)' }),
      claims_to_headers: Type.Record(Type.String(), HeaderName(), {
        default: {},
        description: 'claims sent upstream as headers, e.g. { sub = "X-User" }; a client-sent header of that name is dropped',
      }),
      hide_credentials: Type.Boolean({ default: false, description: 'strip the token before the request goes upstream' }),
      realm: FieldValue({ default: '', description: 'realm in the WWW-Authenticate challenge ("" for none)' }),
    },
    'authenticates requests by JSON Web Token (HS*, RS*, PS*, ES*, EdDSA)',
  ),
  (config, push) => {
    if (config.secret === undefined) return
    // The key must be long enough for the strongest HS* it may verify (HS256 when none is named).
    const named = [...(config.algorithm === undefined ? [] : [config.algorithm]), ...config.algorithms]
    const hmac = named.filter((a) => HMAC_KEY_BYTES[a] !== undefined)
    const strongest =
      hmac.length === 0 ? 'HS256' : hmac.reduce((a, b) => ((HMAC_KEY_BYTES[b] as number) > (HMAC_KEY_BYTES[a] as number) ? b : a))
    const needed = HMAC_KEY_BYTES[strongest] as number
    const bytes = Buffer.from(config.secret, config.secret_encoding === 'base64' ? 'base64' : 'utf8').length
    if (bytes < needed) {
      push('secret', `must be at least ${needed} bytes for ${strongest} (RFC 7518 §3.2), got ${bytes} (${config.secret_encoding})`)
    }
  },
)

export type JwtConfig = Static<typeof JwtSchema>

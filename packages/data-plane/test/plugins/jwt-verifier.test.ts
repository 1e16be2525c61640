// The jwt plugin's key resolution and verifier: RFC 7515/7519 example vectors (with the clock
// set to their time), tampering, "none", alg confusion, and config refusals.
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { test } from 'node:test'
import type { JwtConfig } from '@fleetgate/schema'
import { SignJWT, UnsecuredJWT } from 'jose'
import { resolveJwtKey } from '../../src/plugins/jwt-key.ts'
import { createJwtVerifier } from '../../src/plugins/jwt-verifier.ts'

/** RFC 7515 appendix A.1 (the same token is RFC 7519's example 3.1): HS256 key and JWS. */
const RFC_KEY = 'AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow'
const RFC_TOKEN =
  'eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'
/** RFC 7519 section 6.1: the unsecured ("alg": "none") example. */
const RFC_NONE = 'eyJhbGciOiJub25lIn0.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.'
const RFC_TIME = new Date(1300819300 * 1000)

const config = (over: Partial<JwtConfig>): JwtConfig => ({
  type: 'jwt',
  secret_encoding: 'utf8',
  jwks_cache: '10m',
  jwks_timeout: '5s',
  algorithms: [],
  header: 'Authorization',
  query: '',
  cookie: '',
  required_claims: ['exp'],
  clock_skew: '30s',
  consumer_claim: 'sub',
  claims_to_headers: {},
  hide_credentials: false,
  realm: '',
  ...over,
})
const verifierOf = (c: JwtConfig, now?: () => Date) => createJwtVerifier(c, resolveJwtKey(c), now)
const rfc = config({ secret: RFC_KEY, secret_encoding: 'base64', issuer: 'joe' })

test('verifies the RFC 7515 A.1 HS256 example at its own time', async () => {
  const verdict = await verifierOf(rfc, () => RFC_TIME)(RFC_TOKEN)
  assert.ok(verdict.ok)
  assert.equal(verdict.claims.iss, 'joe')
  assert.equal(verdict.claims['http://example.com/is_root'], true)
})

test('refuses the RFC 7515 A.1 example as expired today, and past the clock skew', async () => {
  assert.deepEqual(await verifierOf(rfc)(RFC_TOKEN), { ok: false, reason: 'token expired', keysUnavailable: false })
  const late = await verifierOf(rfc, () => new Date((1300819380 + 31) * 1000))(RFC_TOKEN)
  assert.equal(late.ok, false)
  const withinSkew = await verifierOf(rfc, () => new Date((1300819380 + 29) * 1000))(RFC_TOKEN)
  assert.equal(withinSkew.ok, true)
})

test('refuses a tampered payload and a tampered signature of the RFC example', async () => {
  const [h, p, s] = RFC_TOKEN.split('.') as [string, string, string]
  const payload = Buffer.from(p, 'base64url').toString().replace('joe', 'eve')
  const verify = verifierOf(rfc, () => RFC_TIME)
  assert.deepEqual(await verify(`${h}.${Buffer.from(payload).toString('base64url')}.${s}`), {
    ok: false,
    reason: 'invalid signature',
    keysUnavailable: false,
  })
  const flipped = `${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`
  assert.equal(((await verify(`${h}.${p}.${flipped}`)) as { reason: string }).reason, 'invalid signature')
})

test('refuses the RFC 7519 6.1 unsecured example and a fresh "alg": "none" token', async () => {
  const verify = verifierOf(rfc, () => RFC_TIME)
  assert.deepEqual(await verify(RFC_NONE), { ok: false, reason: 'algorithm not allowed', keysUnavailable: false })
  const fresh = new UnsecuredJWT({ sub: 'eve', iss: 'joe' }).setExpirationTime('1h').encode()
  assert.equal(((await verifierOf(rfc)(fresh)) as { reason: string }).reason, 'algorithm not allowed')
})

test('refuses a wrong issuer and a missing required claim', async () => {
  const secret = new TextEncoder().encode('s3cret-s3cret-s3cret-s3cret-s3cret')
  const verify = verifierOf(config({ secret: 's3cret-s3cret-s3cret-s3cret-s3cret', issuer: 'joe', required_claims: ['exp', 'sub'] }))
  const make = (claims: Record<string, unknown>) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(secret)
  assert.equal((await verify(await make({ iss: 'joe', sub: 'a' }))).ok, true)
  assert.equal(((await verify(await make({ iss: 'eve', sub: 'a' }))) as { reason: string }).reason, 'claim iss check failed')
  assert.equal(((await verify(await make({ iss: 'joe' }))) as { reason: string }).reason, 'claim sub check failed')
})

test('refuses HS256 signed with the PEM public key of an RS256 config (alg confusion)', async () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string
  const verify = verifierOf(config({ public_key: pem }))
  const good = await new SignJWT({ sub: 'a' }).setProtectedHeader({ alg: 'RS256' }).setExpirationTime('5m').sign(privateKey)
  assert.equal((await verify(good)).ok, true)
  const forged = await new SignJWT({ sub: 'a' })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(pem))
  assert.deepEqual(await verify(forged), { ok: false, reason: 'algorithm not allowed', keysUnavailable: false })
})

test('refuses key sources and algorithms that do not fit, at compile', () => {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const ecPem = publicKey.export({ type: 'spki', format: 'pem' }) as string
  const cases: Array<[Partial<JwtConfig>, RegExp]> = [
    [{}, /exactly one of secret, public_key and jwks_url/],
    [{ secret: 'x', jwks_url: 'https://idp.test/jwks' }, /exactly one/],
    [{ secret: 'x', algorithm: 'RS256' }, /RS256 cannot be used with a secret/],
    [{ public_key: ecPem, algorithms: ['HS256'] }, /HS256 cannot be used with a ec key/],
    [{ public_key: ecPem, algorithms: ['ES384'] }, /ES384 cannot be used/],
    [{ public_key: '/nonexistent/key.pem' }, /public_key: cannot read "\/nonexistent\/key.pem": ENOENT/],
    [{ public_key: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----' }, /public_key: not a PEM public key/],
    [{ jwks_url: 'ftp://idp.test/jwks' }, /jwks_url: expected http or https/],
    [{ jwks_url: 'https://idp.test/jwks', algorithm: 'HS512' }, /HS512 cannot be used with a JWKS/],
  ]
  for (const [over, message] of cases) assert.throws(() => resolveJwtKey(config(over)), message)
  assert.deepEqual(resolveJwtKey(config({ public_key: ecPem })).algorithms, ['ES256'])
  assert.deepEqual(resolveJwtKey(config({ secret: 'x' })).algorithms, ['HS256'])
})

test('a token verified once answers at once the next time; a changed token is verified again', async () => {
  const secret = 'cache-test-secret-0123456789abcdef'
  const c = config({ secret })
  const verify = verifierOf(c)
  const token = await new SignJWT({ sub: 'carol' })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret))
  const first = verify(token)
  assert.ok(first instanceof Promise, 'the first verification runs jose')
  assert.equal((await first).ok, true)
  const second = verify(token)
  assert.ok(!(second instanceof Promise), 'the second one comes from the cache')
  assert.equal(second.ok && second.claims.sub, 'carol')
  // One character of the signature changed: a different string, verified (and refused) again.
  const tampered = `${token.slice(0, -2)}${token.at(-2) === 'A' ? 'B' : 'A'}${token.at(-1)}`
  const verdict = await verify(tampered)
  assert.equal(verdict.ok, false)
})

test('a token that ends like a cached one (the same signature, other claims) is verified, not answered from the cache', async () => {
  const secret = 'cache-test-secret-0123456789abcdef'
  const verify = verifierOf(config({ secret }))
  const token = await new SignJWT({ sub: 'erin' })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret))
  assert.equal((await verify(token)).ok, true)
  // The cache is keyed by the token's ending: here the whole signature is the same, the claims differ.
  const [head, , signature] = token.split('.') as [string, string, string]
  const forged = `${head}.${Buffer.from(JSON.stringify({ sub: 'admin', exp: 4102444800 })).toString('base64url')}.${signature}`
  const verdict = verify(forged)
  assert.ok(verdict instanceof Promise, 'the forged token is verified by jose')
  assert.deepEqual(await verdict, { ok: false, reason: 'invalid signature', keysUnavailable: false })
  const again = verify(token)
  assert.ok(!(again instanceof Promise), 'the genuine token is still answered from the cache')
  assert.equal(again.ok && again.claims.sub, 'erin')
})

test('a token already expired is never answered from the cache', async () => {
  const secret = 'cache-test-secret-0123456789abcdef'
  const verify = verifierOf(config({ secret, clock_skew: '0s' }))
  const token = await new SignJWT({ sub: 'dave' })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime(Math.floor(Date.now() / 1000) - 5)
    .sign(new TextEncoder().encode(secret))
  for (let i = 0; i < 2; i++) {
    const verdict = verify(token)
    assert.ok(verdict instanceof Promise)
    assert.deepEqual(await verdict, { ok: false, reason: 'token expired', keysUnavailable: false })
  }
})

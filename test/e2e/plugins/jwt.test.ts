// jwt through a real gateway process: HS256 (secret), RS256 (PEM file), ES256 (inline PEM) and
// EdDSA (a JWKS served by a real local HTTP server, with caching and key rotation), and the
// refusals: missing, expired, not yet valid, wrong audience, wrong algorithm, "alg": "none".
import assert from 'node:assert/strict'
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { freePort, type GatewayProcess, startBackend, startGateway, type TestBackend } from '@fleetgate/testkit'
import { exportJWK, type JWTPayload, SignJWT, UnsecuredJWT } from 'jose'
import { request } from 'undici'

const SECRET = 'a-shared-secret-of-at-least-32-bytes!'
const hmacKey = new TextEncoder().encode(SECRET)
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const ed1 = generateKeyPairSync('ed25519')
const ed2 = generateKeyPairSync('ed25519')
const pem = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }) as string

let backend: TestBackend
let gateway: GatewayProcess
let jwksServer: Server
let jwksFetches = 0
let jwksKeys: object[] = []
let base: string
let dir: string

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleetgate-jwt-'))
  await writeFile(join(dir, 'rsa.pem'), pem(rsa.publicKey))
  jwksKeys = [{ ...(await exportJWK(ed1.publicKey)), kid: 'k1', alg: 'EdDSA', use: 'sig' }]
  jwksServer = createServer((_req, res) => {
    jwksFetches++
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: jwksKeys }))
  })
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve))
  const jwksPort = (jwksServer.address() as { port: number }).port
  backend = await startBackend('app')
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  const loc = (name: string) => `[locations.${name}]\nupstream = "app"\npath = "/${name}"\nplugins = ["${name}"]\n`
  gateway = await startGateway(`
[upstreams.app]
addrs = ["${backend.addr}"]

[plugins.hs]
type = "jwt"
secret = "${SECRET}"
algorithm = "HS256"
audience = "api"
realm = "api"
query = "access_token"
cookie = "jwt"
claims_to_headers = { sub = "X-User", roles = "X-Roles" }
[plugins.rs]
type = "jwt"
public_key = "${join(dir, 'rsa.pem')}"
algorithm = "RS256"
hide_credentials = true
[plugins.es]
type = "jwt"
public_key = """
${pem(ec.publicKey)}"""
issuer = "https://idp.test"
[plugins.ed]
type = "jwt"
jwks_url = "http://127.0.0.1:${jwksPort}/jwks.json"
jwks_cache = "1s"
algorithms = ["EdDSA"]

${loc('hs')}
${loc('rs')}
${loc('es')}
${loc('ed')}
[servers.main]
addr = "127.0.0.1:${port}"
locations = ["hs", "rs", "es", "ed"]
`)
})

after(async () => {
  await gateway?.stop()
  await backend?.close()
  jwksServer?.closeAllConnections()
  await new Promise((resolve) => jwksServer?.close(resolve))
  await rm(dir, { recursive: true, force: true })
})

const sign = (claims: JWTPayload, alg: string, key: KeyObject | Uint8Array, exp: string | number = '5m', kid?: string) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg, ...(kid === undefined ? {} : { kid }) })
    .setExpirationTime(exp)
    .sign(key)

async function call(path: string, headers: Record<string, string> = {}) {
  const res = await request(`${base}${path}`, { headers })
  const text = await res.body.text()
  return {
    status: res.statusCode,
    headers: res.headers,
    text,
    upstream: () => JSON.parse(text) as { url: string; headers: Record<string, string> },
  }
}
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

test('jwt admits an HS256 token, forwards claims as headers and drops client-sent copies', async () => {
  const token = await sign({ sub: 'alice', aud: 'api', roles: ['admin', 'ops'] }, 'HS256', hmacKey)
  const res = await call('/hs/x', { ...bearer(token), 'x-user': 'mallory' })
  assert.equal(res.status, 200)
  assert.equal(res.upstream().headers['x-user'], 'alice')
  assert.equal(res.upstream().headers['x-roles'], 'admin, ops')
  assert.equal(res.upstream().headers.authorization, `Bearer ${token}`)
})

test('jwt reads the token from the query and from a cookie too', async () => {
  const token = await sign({ sub: 'bob', aud: 'api' }, 'HS256', hmacKey)
  const byQuery = await call(`/hs/x?access_token=${token}`)
  assert.equal(byQuery.status, 200)
  assert.equal(byQuery.upstream().headers['x-user'], 'bob')
  assert.equal((await call('/hs/x', { cookie: `a=1; jwt=${token}` })).status, 200)
})

test('jwt answers a missing token 401 with a Bearer challenge and no error code', async () => {
  const res = await call('/hs/x', { authorization: 'Basic YTpi' })
  assert.equal(res.status, 401)
  assert.equal(res.headers['www-authenticate'], 'Bearer realm="api"')
  assert.equal(res.headers['x-fleetgate-error'], 'UNAUTHORIZED')
})

test('jwt refuses expired, not yet valid, wrong-audience and wrong-secret tokens with invalid_token', async () => {
  const now = Math.floor(Date.now() / 1000)
  const cases: Array<[string, string]> = [
    [await sign({ sub: 'a', aud: 'api' }, 'HS256', hmacKey, now - 120), 'token expired'],
    [await sign({ sub: 'a', aud: 'api', nbf: now + 600 }, 'HS256', hmacKey), 'token not yet valid'],
    [await sign({ sub: 'a', aud: 'other' }, 'HS256', hmacKey), 'claim aud check failed'],
    [await sign({ sub: 'a', aud: 'api' }, 'HS256', new TextEncoder().encode(`${SECRET}x`)), 'invalid signature'],
    [await sign({ sub: 'a', aud: 'api' }, 'HS512', hmacKey), 'algorithm not allowed'],
    [new UnsecuredJWT({ sub: 'a', aud: 'api' }).setExpirationTime('5m').encode(), 'algorithm not allowed'],
    ['not.a.jwt', 'malformed token'],
  ]
  for (const [token, reason] of cases) {
    const res = await call('/hs/x', bearer(token))
    assert.equal(res.status, 401, reason)
    assert.equal(res.headers['www-authenticate'], `Bearer realm="api", error="invalid_token", error_description="${reason}"`)
    assert.ok(!res.text.includes(token), 'the token is never echoed')
  }
})

test('jwt verifies RS256 with a PEM file, hides the token upstream and refuses an HS256 forgery', async () => {
  const res = await call('/rs/x', bearer(await sign({ sub: 'carol' }, 'RS256', rsa.privateKey)))
  assert.equal(res.status, 200)
  assert.equal(res.upstream().headers.authorization, undefined)
  const forged = await sign({ sub: 'carol' }, 'HS256', new TextEncoder().encode(pem(rsa.publicKey)))
  assert.equal((await call('/rs/x', bearer(forged))).status, 401)
  assert.equal(
    (await call('/rs/x', bearer(await sign({ sub: 'c' }, 'RS256', generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey)))).status,
    401,
  )
})

test('jwt verifies ES256 with an inline PEM and checks the issuer', async () => {
  assert.equal((await call('/es/x', bearer(await sign({ sub: 'd', iss: 'https://idp.test' }, 'ES256', ec.privateKey)))).status, 200)
  const wrongIss = await call('/es/x', bearer(await sign({ sub: 'd', iss: 'https://evil.test' }, 'ES256', ec.privateKey)))
  assert.equal(wrongIss.status, 401)
  assert.match(String(wrongIss.headers['www-authenticate']), /claim iss check failed/)
})

test('jwt verifies EdDSA against a remote JWKS, caches it, and picks up a rotated key', async () => {
  const before = jwksFetches
  for (let i = 0; i < 3; i++)
    assert.equal((await call('/ed/x', bearer(await sign({ sub: 'e' }, 'EdDSA', ed1.privateKey, '5m', 'k1')))).status, 200)
  assert.equal(jwksFetches - before, 1, 'one fetch for three requests')
  const rotated = await sign({ sub: 'e' }, 'EdDSA', ed2.privateKey, '5m', 'k2')
  jwksKeys = [...jwksKeys, { ...(await exportJWK(ed2.publicKey)), kid: 'k2', alg: 'EdDSA', use: 'sig' }]
  await new Promise((resolve) => setTimeout(resolve, 1100))
  assert.equal((await call('/ed/x', bearer(rotated))).status, 200)
  const unknown = await call('/ed/x', bearer(await sign({ sub: 'e' }, 'EdDSA', ed2.privateKey, '5m', 'k9')))
  assert.equal(unknown.status, 401)
  assert.match(String(unknown.headers['www-authenticate']), /no matching key/)
})

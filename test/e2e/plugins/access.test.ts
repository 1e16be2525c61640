// cors, ip_restriction, referer_restriction, ua_restriction, key_auth and basic_auth through a
// real gateway process: each one's pass and refusal paths.
import assert from 'node:assert/strict'
import { createHash, randomBytes, scryptSync } from 'node:crypto'
import { after, before, test } from 'node:test'
import { freePort, type GatewayProcess, startBackend, startGateway, type TestBackend } from '@fleetgate/testkit'
import { request } from 'undici'

let backend: TestBackend
let gateway: GatewayProcess
let base: string

const salt = randomBytes(16)
const scryptHash = `scrypt$16384$8$1$${salt.toString('base64')}$${scryptSync('open sesame', salt, 32, { N: 16384, r: 8, p: 1 }).toString('base64')}`
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

before(async () => {
  backend = await startBackend('app')
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  const loc = (name: string, plugins: string[]) =>
    `[locations.${name}]\nupstream = "app"\npath = "/${name}"\nplugins = [${plugins.map((p) => `"${p}"`).join(', ')}]\n`
  gateway = await startGateway(`
[basic]
trusted_proxies = ["127.0.0.1/32"]
[upstreams.app]
addrs = ["${backend.addr}"]

[plugins.cors_any]
type = "cors"
[plugins.cors_list]
type = "cors"
allow_origins = ["https://app.example.com", "https://*.example.org"]
allow_methods = ["GET", "PUT"]
allow_credentials = true
expose_headers = ["X-Total"]
max_age = 300
[plugins.office]
type = "ip_restriction"
allow = ["10.0.0.0/8"]
[plugins.blocked]
type = "ip_restriction"
deny = ["10.0.0.0/8", "2001:db8::/32"]
[plugins.partners]
type = "referer_restriction"
allow = ["*.example.com", "~^https://partner\\\\.org/"]
allow_empty = false
[plugins.no_bots]
type = "ua_restriction"
deny = ["curl", "~bot\\\\d+"]
[plugins.keys]
type = "key_auth"
query = "api_key"
hide_credentials = true
consumers = [{ name = "alice", key = "alice-key" }, { name = "bob", key_sha256 = "${sha256('bob-key')}" }]
[plugins.users]
type = "basic_auth"
realm = "staff"
hide_credentials = true
users = [{ name = "carol", password = "${scryptHash}" }, { name = "dave", password = "sha256$${sha256('dave-pass')}" }]

${loc('open', ['cors_any'])}
${loc('strict', ['cors_list'])}
${loc('office', ['office'])}
${loc('blocked', ['blocked'])}
${loc('partners', ['partners'])}
${loc('humans', ['no_bots'])}
${loc('keys', ['keys'])}
${loc('staff', ['users', 'cors_list'])}
[servers.main]
addr = "127.0.0.1:${port}"
locations = ["open", "strict", "office", "blocked", "partners", "humans", "keys", "staff"]
`)
})

after(async () => {
  await gateway?.stop()
  await backend?.close()
})

async function call(path: string, headers: Record<string, string> = {}, method: 'GET' | 'OPTIONS' = 'GET') {
  const res = await request(`${base}${path}`, { method, headers })
  const text = await res.body.text()
  return {
    status: res.statusCode,
    headers: res.headers,
    text,
    upstream: () => JSON.parse(text) as { url: string; headers: Record<string, string> },
  }
}

test('cors answers an allowed preflight itself with the allowed methods, headers and max-age', async () => {
  const hits = backend.hits
  const res = await call(
    '/strict/x',
    { origin: 'https://app.example.com', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-token' },
    'OPTIONS',
  )
  assert.equal(res.status, 204)
  assert.equal(res.headers['access-control-allow-origin'], 'https://app.example.com')
  assert.equal(res.headers['access-control-allow-methods'], 'GET, PUT')
  assert.equal(res.headers['access-control-allow-headers'], 'x-token')
  assert.equal(res.headers['access-control-allow-credentials'], 'true')
  assert.equal(res.headers['access-control-max-age'], '300')
  assert.match(String(res.headers.vary), /Origin/)
  assert.equal(backend.hits, hits)
})

test('cors refuses a preflight from an origin or for a method it does not allow', async () => {
  const origin = await call('/strict/x', { origin: 'https://evil.test', 'access-control-request-method': 'GET' }, 'OPTIONS')
  assert.equal(origin.status, 403)
  assert.equal(origin.headers['access-control-allow-origin'], undefined)
  const method = await call('/strict/x', { origin: 'https://app.example.com', 'access-control-request-method': 'DELETE' }, 'OPTIONS')
  assert.equal(method.status, 403)
})

test('cors adds allow-origin, credentials, expose and Vary: Origin for an allowed origin, including a pattern', async () => {
  const res = await call('/strict/x', { origin: 'https://shop.eu.example.org' })
  assert.equal(res.status, 200)
  assert.equal(res.headers['access-control-allow-origin'], 'https://shop.eu.example.org')
  assert.equal(res.headers['access-control-expose-headers'], 'X-Total')
  assert.match(String(res.headers.vary), /Origin/)
})

test('cors leaves the allow-origin header off for an origin it does not allow', async () => {
  const res = await call('/strict/x', { origin: 'https://example.org.evil.test' })
  assert.equal(res.status, 200)
  assert.equal(res.headers['access-control-allow-origin'], undefined)
  assert.match(String(res.headers.vary), /Origin/)
})

test('cors with the default "*" answers any origin with a wildcard', async () => {
  const res = await call('/open/x', { origin: 'https://anywhere.test' })
  assert.equal(res.headers['access-control-allow-origin'], '*')
})

test('ip_restriction allow list refuses the peer and admits a client named by a trusted proxy', async () => {
  assert.equal((await call('/office/x')).status, 403)
  assert.equal((await call('/office/x', { 'x-forwarded-for': '10.1.2.3' })).status, 200)
})

test('ip_restriction deny list refuses IPv4 and IPv6 CIDRs and lets other clients through', async () => {
  assert.equal((await call('/blocked/x', { 'x-forwarded-for': '10.9.9.9' })).status, 403)
  assert.equal((await call('/blocked/x', { 'x-forwarded-for': '2001:db8::1' })).status, 403)
  assert.equal((await call('/blocked/x', { 'x-forwarded-for': '192.0.2.1' })).status, 200)
  assert.equal((await call('/blocked/x')).status, 200)
})

test('referer_restriction admits listed hosts and regexes and refuses others and a missing Referer', async () => {
  assert.equal((await call('/partners/x', { referer: 'https://www.example.com/page' })).status, 200)
  assert.equal((await call('/partners/x', { referer: 'https://partner.org/a' })).status, 200)
  assert.equal((await call('/partners/x', { referer: 'https://example.com.evil.test/' })).status, 403)
  assert.equal((await call('/partners/x')).status, 403)
})

test('ua_restriction refuses listed substrings and regexes, case-insensitively', async () => {
  assert.equal((await call('/humans/x', { 'user-agent': 'curl/8.5.0' })).status, 403)
  assert.equal((await call('/humans/x', { 'user-agent': 'SuperBot42 crawler' })).status, 403)
  assert.equal((await call('/humans/x', { 'user-agent': 'Mozilla/5.0' })).status, 200)
})

test('key_auth admits a plain key from the header, names the consumer upstream and hides the key', async () => {
  const res = await call('/keys/x', { 'x-api-key': 'alice-key', 'x-consumer-name': 'mallory' })
  assert.equal(res.status, 200)
  const up = res.upstream()
  assert.equal(up.headers['x-consumer-name'], 'alice')
  assert.equal(up.headers['x-api-key'], undefined)
})

test('key_auth admits a sha256-stored key from the query and strips it from the upstream URL', async () => {
  const res = await call('/keys/x?a=1&api_key=bob-key')
  assert.equal(res.status, 200)
  assert.equal(res.upstream().url, '/keys/x?a=1')
  assert.equal(res.upstream().headers['x-consumer-name'], 'bob')
})

test('key_auth refuses a wrong or missing key with 401', async () => {
  const wrong = await call('/keys/x', { 'x-api-key': 'alice-kez' })
  assert.equal(wrong.status, 401)
  assert.equal(wrong.headers['x-fleetgate-error'], 'UNAUTHORIZED')
  assert.equal((await call('/keys/x')).status, 401)
})

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

test('basic_auth admits scrypt and sha256 users, names the consumer and hides Authorization', async () => {
  for (const [user, password] of [
    ['carol', 'open sesame'],
    ['carol', 'open sesame'],
    ['dave', 'dave-pass'],
  ] as const) {
    const res = await call('/staff/x', { authorization: basic(user, password) })
    assert.equal(res.status, 200)
    assert.equal(res.upstream().headers['x-consumer-name'], user)
    assert.equal(res.upstream().headers.authorization, undefined)
  }
})

test('basic_auth refuses a wrong password, an unknown user and no credentials with 401 and a challenge', async () => {
  for (const headers of [{ authorization: basic('carol', 'open sesamE') }, { authorization: basic('erin', 'x') }, {}] as Record<
    string,
    string
  >[]) {
    const res = await call('/staff/x', headers)
    assert.equal(res.status, 401)
    assert.equal(res.headers['www-authenticate'], 'Basic realm="staff", charset="UTF-8"')
  }
})

test('a refusal still carries the CORS headers of a plugin on the same location', async () => {
  const res = await call('/staff/x', { origin: 'https://app.example.com' })
  assert.equal(res.status, 401)
  assert.equal(res.headers['access-control-allow-origin'], 'https://app.example.com')
})

// csrf through a real gateway process: a token issued on GET token_path, then checked on unsafe
// methods (cookie + header, signed, unexpired); 403 on anything else.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { freePort, type GatewayProcess, startBackend, startGateway, type TestBackend } from '@fleetgate/testkit'
import { request } from 'undici'

let backend: TestBackend
let gateway: GatewayProcess
let base: string

before(async () => {
  backend = await startBackend('app')
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  gateway = await startGateway(`
[upstreams.app]
addrs = ["${backend.addr}"]
[plugins.csrf]
type = "csrf"
key = "0123456789abcdef-csrf-key"
token_path = "/app/csrf"
same_site = "Strict"
[plugins.csrf_short]
type = "csrf"
key = "0123456789abcdef-csrf-key"
token_path = "/short/csrf"
ttl = "1s"
[plugins.csrf_other_key]
type = "csrf"
key = "another-key-of-16-chars-or-more"
token_path = "/other/csrf"
[locations.app]
upstream = "app"
path = "/app"
plugins = ["csrf"]
[locations.short]
upstream = "app"
path = "/short"
plugins = ["csrf_short"]
[locations.other]
upstream = "app"
path = "/other"
plugins = ["csrf_other_key"]
[servers.main]
addr = "127.0.0.1:${port}"
locations = ["app", "short", "other"]
`)
})

after(async () => {
  await gateway?.stop()
  await backend?.close()
})

async function call(path: string, method: 'GET' | 'POST' | 'DELETE', headers: Record<string, string> = {}) {
  const res = await request(`${base}${path}`, { method, headers, body: method === 'GET' ? null : '{}' })
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() }
}

async function issue(path = '/app/csrf') {
  const hits = backend.hits
  const res = await call(path, 'GET')
  assert.equal(res.status, 200)
  assert.equal(backend.hits, hits, 'the gateway answers the token path itself')
  const { token } = JSON.parse(res.text) as { token: string }
  return { token, setCookie: String(res.headers['set-cookie']) }
}

test('csrf issues a token in the body, a header and a script-readable cookie', async () => {
  const { token, setCookie } = await issue()
  assert.match(token, /^[\w-]{22}\.[0-9a-z]+\.[\w-]{43}$/)
  assert.equal(setCookie, `x-csrf-token=${token}; Path=/; Max-Age=3600; SameSite=Strict`)
  assert.notEqual((await issue()).token, token, 'a fresh token each time')
})

test('csrf lets safe methods through and admits an unsafe one with matching cookie and header', async () => {
  assert.equal((await call('/app/x', 'GET')).status, 200)
  const { token } = await issue()
  const hits = backend.hits
  assert.equal((await call('/app/x', 'POST', { cookie: `x-csrf-token=${token}`, 'x-csrf-token': token })).status, 200)
  assert.equal(backend.hits, hits + 1)
})

test('csrf refuses an unsafe request without a token, with a mismatch, or with a forged one (403)', async () => {
  const { token } = await issue()
  const { token: other } = await issue()
  const [nonce, exp] = token.split('.') as [string, string]
  const forged = `${nonce}.${exp}.${'A'.repeat(43)}`
  const cases: Array<Record<string, string>> = [
    {},
    { cookie: `x-csrf-token=${token}` },
    { 'x-csrf-token': token },
    { cookie: `x-csrf-token=${token}`, 'x-csrf-token': other },
    { cookie: `x-csrf-token=${forged}`, 'x-csrf-token': forged },
    { cookie: 'x-csrf-token=anything', 'x-csrf-token': 'anything' },
  ]
  const hits = backend.hits
  for (const headers of cases) {
    const res = await call('/app/x', 'DELETE', headers)
    assert.equal(res.status, 403, JSON.stringify(headers))
    assert.equal(res.headers['x-fleetgate-error'], 'FORBIDDEN')
  }
  assert.equal(backend.hits, hits)
})

test('csrf refuses a token signed with another key and an expired token', async () => {
  const { token } = await issue('/other/csrf')
  assert.equal((await call('/app/x', 'POST', { cookie: `x-csrf-token=${token}`, 'x-csrf-token': token })).status, 403)
  const short = (await issue('/short/csrf')).token
  const send = () => call('/short/x', 'POST', { cookie: `x-csrf-token=${short}`, 'x-csrf-token': short })
  assert.equal((await send()).status, 200)
  await new Promise((resolve) => setTimeout(resolve, 2100))
  assert.equal((await send()).status, 403)
})

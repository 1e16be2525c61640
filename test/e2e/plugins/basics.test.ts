// request_id, ping, mock, redirect, response_headers and security_headers through a real
// gateway process in front of a real backend.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { freePort, type GatewayProcess, startBackend, startGateway, type TestBackend } from '@fleetgate/testkit'
import { request } from 'undici'

let backend: TestBackend
let gateway: GatewayProcess
let base: string

before(async () => {
  backend = await startBackend('app', (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'x-frame-options': 'SAMEORIGIN', 'x-remove-me': '1', server: 'app' })
    res.end(JSON.stringify({ url: req.url, headers: req.headers }))
  })
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  gateway = await startGateway(`
[upstreams.app]
addrs = ["${backend.addr}"]

[plugins.rid]
type = "request_id"
[plugins.health]
type = "ping"
path = "/ping"
[plugins.stub]
type = "mock"
status = 202
headers = ["X-Mock:yes", "Content-Type:text/plain"]
body = "mocked"
delay = "200ms"
[plugins.to_https]
type = "redirect"
https = true
https_port = 8443
[plugins.to_host]
type = "redirect"
host = "www.example.com"
status = 302
[plugins.to_prefix]
type = "redirect"
prefix = "/v2"
status = 308
[plugins.edit]
type = "response_headers"
add = ["X-Added:1"]
set = ["Server:fleetgate"]
remove = ["X-Remove-Me"]
[plugins.sec]
type = "security_headers"

[locations.ids]
upstream = "app"
path = "/ids"
plugins = ["rid"]
[locations.stub]
path = "/stub"
plugins = ["stub"]
[locations.secure]
upstream = "app"
path = "/secure"
plugins = ["to_https"]
[locations.moved]
upstream = "app"
path = "/moved"
plugins = ["to_host"]
[locations.legacy]
upstream = "app"
path = "/legacy"
plugins = ["to_prefix"]
[locations.hdrs]
upstream = "app"
path = "/hdrs"
plugins = ["edit", "sec"]

[servers.main]
addr = "127.0.0.1:${port}"
locations = ["ids", "stub", "secure", "moved", "legacy", "hdrs"]
plugins = ["health"]
`)
})

after(async () => {
  await gateway?.stop()
  await backend?.close()
})

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await request(`${base}${path}`, { headers })
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() }
}

test('request_id generates a UUID v7, forwards it upstream and returns it', async () => {
  const res = await get('/ids/a')
  const id = String(res.headers['x-request-id'])
  assert.match(id, UUID_V7)
  assert.equal(JSON.parse(res.text).headers['x-request-id'], id)
  const again = await get('/ids/a')
  assert.notEqual(again.headers['x-request-id'], id)
})

test('request_id keeps a well-formed incoming id and replaces a malformed one', async () => {
  const kept = await get('/ids/a', { 'x-request-id': 'trace-abc.123' })
  assert.equal(kept.headers['x-request-id'], 'trace-abc.123')
  assert.equal(JSON.parse(kept.text).headers['x-request-id'], 'trace-abc.123')
  const replaced = await get('/ids/a', { 'x-request-id': 'has spaces <script>' })
  assert.match(String(replaced.headers['x-request-id']), UUID_V7)
})

test('ping answers its path from a server global plugin without a location or upstream', async () => {
  const hits = backend.hits
  const res = await get('/ping')
  assert.equal(res.status, 200)
  assert.equal(res.text, 'pong')
  assert.equal(backend.hits, hits)
  assert.equal((await get('/nowhere')).status, 404)
})

test('mock answers with its status, headers and body after its delay', async () => {
  const started = performance.now()
  const res = await get('/stub/anything')
  const elapsed = performance.now() - started
  assert.equal(res.status, 202)
  assert.equal(res.headers['x-mock'], 'yes')
  assert.equal(res.text, 'mocked')
  assert.ok(elapsed >= 190, `answered after ${elapsed} ms`)
})

test('redirect sends plain http to https with the port, path and query', async () => {
  const res = await get('/secure/x?a=1', { host: 'shop.example.com:8080' })
  assert.equal(res.status, 301)
  assert.equal(res.headers.location, 'https://shop.example.com:8443/secure/x?a=1')
})

test('redirect sends other hosts to its host with its status and lets its own host through', async () => {
  const res = await get('/moved/p', { host: 'old.example.com' })
  assert.equal(res.status, 302)
  assert.equal(res.headers.location, 'http://www.example.com/moved/p')
  const through = await get('/moved/p', { host: 'www.example.com' })
  assert.equal(through.status, 200)
})

test('redirect puts paths under its prefix', async () => {
  const res = await get('/legacy/item?id=7')
  assert.equal(res.status, 308)
  assert.match(String(res.headers.location), /^http:\/\/127\.0\.0\.1:\d+\/v2\/legacy\/item\?id=7$/)
})

test('response_headers adds, sets and removes headers of the upstream response', async () => {
  const res = await get('/hdrs/x')
  assert.equal(res.headers['x-added'], '1')
  assert.equal(res.headers.server, 'fleetgate')
  assert.equal(res.headers['x-remove-me'], undefined)
})

test('security_headers safe preset adds its headers, keeps the upstream frame policy and sends no HSTS over http', async () => {
  const res = await get('/hdrs/x')
  assert.equal(res.headers['x-content-type-options'], 'nosniff')
  assert.equal(res.headers['referrer-policy'], 'strict-origin-when-cross-origin')
  assert.match(String(res.headers['permissions-policy']), /camera=\(\)/)
  assert.equal(res.headers['x-frame-options'], 'SAMEORIGIN')
  assert.equal(res.headers['strict-transport-security'], undefined)
})

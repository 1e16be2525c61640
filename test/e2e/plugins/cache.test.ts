// cache through a real gateway process: HIT/MISS by Cache-Control, Expires and default_ttl,
// the refusals (no-store, private, Set-Cookie, Vary), per-entry size, Vary keys, HEAD and
// conditional hits, PURGE by URL and prefix from allowed IPs only, invalidation by POST, a
// first response streamed while it is stored, and compression on top of cached entries.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { gunzipSync } from 'node:zlib'
import { freePort, type GatewayProcess, startBackend, startGateway, type TestBackend } from '@fleetgate/testkit'
import { request } from 'undici'

let backend: TestBackend
let gateway: GatewayProcess
let base: string
let counter = 0
let releaseSlow: (() => void) | undefined

before(async () => {
  backend = await startBackend('app', (req, res) => {
    const n = ++counter
    const path = (req.url ?? '').replace(/^\/(c|d|z)\//, '/').replace(/\?.*$/, '')
    const json = (headers: Record<string, string>) =>
      res
        .writeHead(200, { 'content-type': 'application/json', ...headers })
        .end(JSON.stringify({ n, url: req.url, lang: req.headers['accept-language'] }))
    if (path === '/max-age') json({ 'cache-control': 'max-age=60', etag: '"e1"' })
    else if (path === '/short') json({ 'cache-control': 'max-age=1' })
    else if (path === '/expires') json({ expires: new Date(Date.now() + 60_000).toUTCString() })
    else if (path === '/plain') json({})
    else if (path === '/no-store') json({ 'cache-control': 'no-store' })
    else if (path === '/private') json({ 'cache-control': 'private, max-age=60' })
    else if (path === '/cookie') json({ 'cache-control': 'max-age=60', 'set-cookie': 'a=1' })
    else if (path === '/vary') json({ 'cache-control': 'max-age=60', vary: 'Accept-Language' })
    else if (path === '/vary-ua') json({ 'cache-control': 'max-age=60', vary: 'User-Agent' })
    else if (path === '/big') res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=60' }).end('x'.repeat(100_000))
    else if (path === '/text')
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=60' }).end(`${n} ${'text '.repeat(1000)}`)
    else if (path === '/slow') {
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=60' })
      res.write(`first ${n};`)
      releaseSlow = () => res.end('second')
    } else json({ 'cache-control': 'max-age=60' })
  })
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  gateway = await startGateway(`
[basic]
trusted_proxies = ["127.0.0.1/32"]
[upstreams.app]
addrs = ["${backend.addr}"]
[plugins.cache]
type = "cache"
default_ttl = "30s"
max_entry_size = "64kb"
vary = ["Accept-Language"]
purge_allow = ["10.0.0.0/8"]
[plugins.strict_cache]
type = "cache"
[plugins.zip]
type = "compression"
[locations.c]
upstream = "app"
path = "/c"
plugins = ["cache"]
[locations.d]
upstream = "app"
path = "/d"
plugins = ["strict_cache"]
[locations.z]
upstream = "app"
path = "/z"
plugins = ["strict_cache", "zip"]
[servers.main]
addr = "127.0.0.1:${port}"
locations = ["c", "d", "z"]
`)
})

after(async () => {
  await gateway?.stop()
  await backend?.close()
})

type Method = 'GET' | 'HEAD' | 'POST' | 'PURGE'
async function call(path: string, headers: Record<string, string> = {}, method: Method = 'GET') {
  const res = await request(`${base}${path}`, { method, headers })
  const body = Buffer.from(await res.body.arrayBuffer())
  return { status: res.statusCode, headers: res.headers, body, text: body.toString() }
}
/** Two GETs: did the second come from the cache? */
async function cachedTwice(path: string, headers: Record<string, string> = {}) {
  const before = backend.hits
  const first = await call(path, headers)
  const second = await call(path, headers)
  assert.equal(first.headers['x-cache'], 'MISS')
  return { hit: backend.hits - before === 1, first, second }
}

test('stores a max-age response: MISS then HIT with the same body and an Age', async () => {
  const { hit, first, second } = await cachedTwice('/c/max-age')
  assert.ok(hit)
  assert.equal(second.headers['x-cache'], 'HIT')
  assert.equal(second.text, first.text)
  assert.match(String(second.headers.age), /^\d+$/)
  assert.equal(second.headers['content-type'], 'application/json')
})

test('stores by Expires and by default_ttl, and not without freshness when default_ttl is 0', async () => {
  assert.ok((await cachedTwice('/c/expires')).hit)
  assert.ok((await cachedTwice('/c/plain')).hit)
  assert.ok(!(await cachedTwice('/d/plain')).hit)
})

test('does not store no-store, private, Set-Cookie, or a Vary on a header outside the key', async () => {
  for (const path of ['/c/no-store', '/c/private', '/c/cookie', '/c/vary-ua']) {
    const { hit, second } = await cachedTwice(path)
    assert.ok(!hit, path)
    assert.equal(second.headers['x-cache'], 'MISS')
  }
})

test('keys by the configured Vary header and by the query', async () => {
  const en = await cachedTwice('/c/vary', { 'accept-language': 'en' })
  assert.ok(en.hit)
  const fr = await cachedTwice('/c/vary', { 'accept-language': 'fr' })
  assert.ok(fr.hit)
  assert.notEqual(en.first.text, fr.first.text)
  assert.equal(JSON.parse(fr.second.text).lang, 'fr')
  const a = await call('/c/q?x=1')
  const b = await call('/c/q?x=2')
  assert.notEqual(a.text, b.text)
})

test('expires an entry after its max-age', async () => {
  assert.ok((await cachedTwice('/c/short')).hit)
  await new Promise((resolve) => setTimeout(resolve, 1100))
  assert.equal((await call('/c/short')).headers['x-cache'], 'MISS')
})

test('streams a body over max_entry_size whole, without storing it', async () => {
  const { hit, second } = await cachedTwice('/c/big')
  assert.ok(!hit)
  assert.equal(second.body.length, 100_000)
})

test('answers HEAD and a matching If-None-Match from the stored GET', async () => {
  await call('/c/max-age')
  const hits = backend.hits
  const head = await call('/c/max-age', {}, 'HEAD')
  assert.equal(head.headers['x-cache'], 'HIT')
  assert.equal(head.body.length, 0)
  const conditional = await call('/c/max-age', { 'if-none-match': '"e1"' })
  assert.equal(conditional.status, 304)
  assert.equal(backend.hits, hits)
})

test('a request with Cache-Control: no-cache goes upstream and refreshes the entry', async () => {
  await call('/c/refresh')
  const fresh = await call('/c/refresh', { 'cache-control': 'no-cache' })
  assert.equal(fresh.headers['x-cache'], 'MISS')
  const after = await call('/c/refresh')
  assert.equal(after.headers['x-cache'], 'HIT')
  assert.equal(after.text, fresh.text)
})

test('PURGE is refused from other IPs, and purges a URL or a prefix from allowed ones', async () => {
  await call('/c/p/1')
  await call('/c/p/2')
  await call('/c/solo')
  const refused = await call('/c/solo', {}, 'PURGE')
  assert.equal(refused.status, 403)
  assert.equal((await call('/c/solo')).headers['x-cache'], 'HIT')
  const purged = await call('/c/solo', { 'x-forwarded-for': '10.0.0.5' }, 'PURGE')
  assert.equal(purged.status, 200)
  assert.deepEqual(JSON.parse(purged.text), { purged: 1 })
  assert.equal((await call('/c/solo')).headers['x-cache'], 'MISS')
  const prefix = await call('/c/p/*', { 'x-forwarded-for': '10.0.0.5' }, 'PURGE')
  assert.deepEqual(JSON.parse(prefix.text), { purged: 2 })
  assert.equal((await call('/c/p/1')).headers['x-cache'], 'MISS')
})

test('a successful POST invalidates its URL', async () => {
  await call('/c/item')
  assert.equal((await call('/c/item')).headers['x-cache'], 'HIT')
  assert.equal((await call('/c/item', {}, 'POST')).status, 200)
  assert.equal((await call('/c/item')).headers['x-cache'], 'MISS')
})

test('streams the first response to the client while storing it', async () => {
  const res = await request(`${base}/c/slow`)
  const reader = res.body[Symbol.asyncIterator]()
  const timer = setTimeout(() => res.body.destroy(new Error('the first chunk did not arrive before the upstream ended')), 5000)
  const first = await reader.next()
  clearTimeout(timer)
  assert.match(Buffer.from(first.value as Uint8Array).toString(), /^first \d+;/)
  releaseSlow?.()
  let text = Buffer.from(first.value as Uint8Array).toString()
  for (let r = await reader.next(); !r.done; r = await reader.next()) text += Buffer.from(r.value as Uint8Array).toString()
  const again = await call('/c/slow')
  assert.equal(again.headers['x-cache'], 'HIT')
  assert.equal(again.text, text)
})

test('with compression, stores the plain body and serves HITs compressed or not per client', async () => {
  const plain = await call('/z/text')
  const zipped = await call('/z/text', { 'accept-encoding': 'gzip' })
  assert.equal(zipped.headers['x-cache'], 'HIT')
  assert.equal(zipped.headers['content-encoding'], 'gzip')
  assert.match(String(zipped.headers.vary), /Accept-Encoding/)
  assert.equal(gunzipSync(zipped.body).toString(), plain.text)
  const again = await call('/z/text')
  assert.equal(again.headers['content-encoding'], undefined)
  assert.equal(again.text, plain.text)
})

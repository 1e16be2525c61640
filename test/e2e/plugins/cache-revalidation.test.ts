// cache revalidation and coalescing through a real gateway process: stale entries revalidated
// with If-None-Match / If-Modified-Since (a 304 refreshes the entry, a 200 replaces it), client
// conditionals answered from the refreshed entry, stale-if-error on a 5xx and on an unreachable
// upstream, stale-while-revalidate while another request revalidates, and concurrent misses
// coalesced into one upstream request (or let go when uncacheable or after coalesce_timeout).
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { freePort, type GatewayProcess, startBackend, startGateway, type TestBackend } from '@fleetgate/testkit'
import { request } from 'undici'

let backend: TestBackend
let flaky: TestBackend
let gateway: GatewayProcess
let base: string
let counter = 0
const versions = new Map<string, number>()
const failing = new Set<string>()
/** Conditional headers the backend received, by path. */
const conditionals = new Map<string, { inm: string | undefined; ims: string | undefined }>()

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
/** Long enough for a max-age=1 entry to go stale. */
const stale = () => sleep(1100)

before(async () => {
  backend = await startBackend('app', (req, res) => {
    const n = ++counter
    const path = (req.url ?? '').replace(/^\/(r|w)\//, '/').replace(/\?.*$/, '')
    const inm = req.headers['if-none-match']
    const ims = req.headers['if-modified-since']
    if (inm !== undefined || ims !== undefined) conditionals.set(path, { inm, ims })
    const answer = () => {
      if (failing.has(path)) return res.writeHead(500, { 'content-type': 'text/plain' }).end('upstream broke')
      if (path.includes('nostore')) return res.writeHead(200, { 'cache-control': 'no-store' }).end(`${path} n${n}`)
      const v = versions.get(path) ?? 1
      const etag = `"${path}-v${v}"`
      const lastModified = new Date(Date.UTC(2026, 0, v)).toUTCString()
      const byDate = path.startsWith('/lm')
      const cc = path.includes('swr')
        ? 'max-age=1, stale-while-revalidate=30'
        : path.includes('sie')
          ? 'max-age=1, stale-if-error=60'
          : path.startsWith('/slow')
            ? 'max-age=60'
            : 'max-age=1'
      const notModified = byDate ? ims !== undefined && Date.parse(ims) >= Date.parse(lastModified) : inm === etag
      if (notModified) return res.writeHead(304, { 'cache-control': 'max-age=60', 'x-refreshed': String(n) }).end()
      const validator = byDate ? { 'last-modified': lastModified } : { etag }
      res
        .writeHead(200, { 'content-type': 'text/plain', 'cache-control': cc, 'x-first': String(n), ...validator })
        .end(`${path} v${v} n${n}`)
    }
    if (path.startsWith('/slow')) setTimeout(answer, 400)
    else answer()
  })
  flaky = await startBackend('flaky', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=1' }).end(`flaky n${++counter}`)
  })
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  gateway = await startGateway(`
[upstreams.app]
addrs = ["${backend.addr}"]
[upstreams.flaky]
addrs = ["${flaky.addr}"]
[plugins.cache]
type = "cache"
[plugins.short_wait]
type = "cache"
coalesce_timeout = "200ms"
[plugins.sie_cache]
type = "cache"
stale_if_error = "60s"
[locations.r]
upstream = "app"
path = "/r"
plugins = ["cache"]
[locations.w]
upstream = "app"
path = "/w"
plugins = ["short_wait"]
[locations.f]
upstream = "flaky"
path = "/f"
plugins = ["sie_cache"]
[servers.main]
addr = "127.0.0.1:${port}"
locations = ["r", "w", "f"]
`)
})

after(async () => {
  await gateway?.stop()
  await backend?.close()
  await flaky?.close()
})

async function call(path: string, headers: Record<string, string> = {}) {
  const res = await request(`${base}${path}`, { headers })
  const text = await res.body.text()
  return { status: res.statusCode, headers: res.headers, text, cache: res.headers['x-cache'] }
}

test('revalidates a stale entry with If-None-Match: a 304 refreshes it and the client gets the stored body', async () => {
  const first = await call('/r/etag')
  assert.equal(first.cache, 'MISS')
  await stale()
  const hits = backend.hits
  const again = await call('/r/etag')
  assert.equal(backend.hits, hits + 1)
  assert.deepEqual(conditionals.get('/etag'), { inm: '"/etag-v1"', ims: undefined })
  assert.equal(again.status, 200)
  assert.equal(again.cache, 'REVALIDATED')
  assert.equal(again.text, first.text)
  assert.equal(again.headers['content-length'], String(Buffer.byteLength(first.text)))
  assert.ok(again.headers['x-refreshed'], 'headers of the 304 update the entry')
  assert.equal(again.headers['x-first'], first.headers['x-first'])
  // The 304 said max-age=60: the refreshed entry is fresh again, with its new headers.
  const third = await call('/r/etag')
  assert.equal(third.cache, 'HIT')
  assert.equal(third.headers['x-refreshed'], again.headers['x-refreshed'])
  assert.equal(backend.hits, hits + 1)
})

test('revalidates with If-Modified-Since when the entry has only a Last-Modified', async () => {
  const first = await call('/r/lm')
  await stale()
  const again = await call('/r/lm')
  assert.equal(again.cache, 'REVALIDATED')
  assert.equal(again.text, first.text)
  assert.equal(conditionals.get('/lm')?.ims, first.headers['last-modified'])
})

test('a changed resource answers 200 to the revalidation and replaces the entry', async () => {
  const first = await call('/r/changing')
  versions.set('/changing', 2)
  await stale()
  const changed = await call('/r/changing')
  assert.equal(changed.cache, 'MISS')
  assert.match(changed.text, /v2/)
  assert.notEqual(changed.text, first.text)
  const hit = await call('/r/changing')
  assert.equal(hit.cache, 'HIT')
  assert.equal(hit.text, changed.text)
})

test('a client conditional is answered from the revalidated entry, whatever validators it sent', async () => {
  const first = await call('/r/cond1')
  await call('/r/cond2')
  await stale()
  const matching = await call('/r/cond1', { 'if-none-match': String(first.headers.etag) })
  assert.equal(matching.status, 304)
  assert.equal(matching.cache, 'REVALIDATED')
  const other = await call('/r/cond2', { 'if-none-match': '"something-else"' })
  assert.equal(other.status, 200)
  assert.equal(other.cache, 'REVALIDATED')
  assert.match(other.text, /^\/cond2 v1/)
  assert.equal(conditionals.get('/cond2')?.inm, '"/cond2-v1"', "the cache's validator went upstream, not the client's")
  const fresh = await call('/r/cond1', { 'if-none-match': String(first.headers.etag) })
  assert.equal(fresh.status, 304)
  assert.equal(fresh.cache, 'HIT')
})

test('serves a stale entry within stale-if-error when the upstream answers 5xx, and not without it', async () => {
  const first = await call('/r/sie')
  await call('/r/plain')
  failing.add('/sie')
  failing.add('/plain')
  await stale()
  const served = await call('/r/sie')
  assert.equal(served.status, 200)
  assert.equal(served.cache, 'STALE')
  assert.equal(served.text, first.text)
  const broken = await call('/r/plain')
  assert.equal(broken.status, 500)
  assert.equal(broken.text, 'upstream broke')
})

test('serves a stale entry (stale_if_error) when the upstream is unreachable', async () => {
  const first = await call('/f/page')
  assert.equal(first.cache, 'MISS')
  await flaky.close()
  await stale()
  const served = await call('/f/page')
  assert.equal(served.status, 200)
  assert.equal(served.cache, 'STALE')
  assert.equal(served.text, first.text)
  const missing = await call('/f/never-stored')
  assert.equal(missing.status, 502)
  assert.equal(missing.cache, 'MISS')
})

test('serves stale (stale-while-revalidate) while another request revalidates', async () => {
  const first = await call('/r/slow-swr')
  await stale()
  const hits = backend.hits
  const revalidating = call('/r/slow-swr')
  await sleep(100)
  const meanwhile = await call('/r/slow-swr')
  assert.equal(meanwhile.cache, 'STALE')
  assert.equal(meanwhile.text, first.text)
  const revalidated = await revalidating
  assert.equal(revalidated.cache, 'REVALIDATED')
  assert.equal(backend.hits, hits + 1)
})

test('coalesces 20 concurrent misses into one upstream request', async () => {
  const hits = backend.hits
  const answers = await Promise.all(Array.from({ length: 20 }, () => call('/r/slow-one')))
  assert.equal(backend.hits - hits, 1)
  assert.equal(new Set(answers.map((a) => a.text)).size, 1)
  assert.deepEqual(answers.map((a) => a.cache).sort(), ['MISS', ...Array(19).fill('HIT')].sort())
  assert.ok(answers.every((a) => a.status === 200))
})

test('waiting misses go upstream themselves when the response turns out uncacheable', async () => {
  const hits = backend.hits
  const answers = await Promise.all(Array.from({ length: 5 }, () => call('/r/slow-nostore')))
  assert.equal(backend.hits - hits, 5)
  assert.equal(new Set(answers.map((a) => a.text)).size, 5)
})

test('a waiting miss goes upstream itself after coalesce_timeout', async () => {
  const hits = backend.hits
  // The upstream takes 400 ms, longer than coalesce_timeout (200 ms).
  const answers = await Promise.all(Array.from({ length: 3 }, () => call('/w/slow-long')))
  assert.equal(backend.hits - hits, 3)
  assert.ok(answers.every((a) => a.status === 200 && a.cache === 'MISS'))
})

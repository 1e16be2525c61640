// compression through a real gateway process: each coding decoded by the client and
// byte-compared, the skip rules, a plugin reply compressed, server-sent events flushed event by
// event, and backpressure reaching the upstream while the client does not read.
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { after, before, test } from 'node:test'
import { brotliDecompressSync, createZstdDecompress, gunzipSync, gzipSync, zstdDecompressSync } from 'node:zlib'
import { freePort, type GatewayProcess, startBackend, startGateway, type TestBackend } from '@fleetgate/testkit'
import { request } from 'undici'

const TEXT = Buffer.from(JSON.stringify(Array.from({ length: 3000 }, (_, i) => ({ id: i, name: `item ${i}`, tags: ['a', 'b'] }))))
const BIG_CHUNK = 64 * 1024
const BIG_CHUNKS = 1024 // 64 MiB, incompressible
let bigWritten = 0
let bigHash = ''
let sseNext: (() => void) | undefined

let backend: TestBackend
let gateway: GatewayProcess
let base: string

before(async () => {
  backend = await startBackend('app', (req, res) => {
    const url = req.url ?? ''
    if (url.startsWith('/z/text')) res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', etag: '"v1"' }).end(TEXT)
    else if (url === '/z/chunked') {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write(TEXT.subarray(0, 1000))
      setTimeout(() => res.end(TEXT.subarray(1000)), 20)
    } else if (url === '/z/small') res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '4' }).end('tiny')
    else if (url === '/z/png') res.writeHead(200, { 'content-type': 'image/png' }).end(TEXT)
    else if (url === '/z/encoded') res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' }).end(gzipSync(TEXT))
    else if (url === '/z/no-transform') res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-transform' }).end(TEXT)
    else if (url === '/z/empty') res.writeHead(204).end()
    else if (url === '/z/trailers') {
      res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' })
      res.write(TEXT)
      res.addTrailers({ 'x-checksum': 'sum-1' })
      res.end()
    } else if (url === '/z/sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
      res.write('data: one\n\n')
      sseNext = () => res.end('data: two\n\n')
    } else if (url === '/z/big') {
      const hash = createHash('sha256')
      res.writeHead(200, { 'content-type': 'text/plain' })
      let i = 0
      const pump = () => {
        while (i < BIG_CHUNKS) {
          const chunk = randomBytes(BIG_CHUNK)
          hash.update(chunk)
          i++
          bigWritten += chunk.length
          if (!res.write(chunk)) return void res.once('drain', pump)
        }
        bigHash = hash.digest('hex')
        res.end()
      }
      pump()
    } else res.writeHead(404).end()
  })
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  gateway = await startGateway(`
[upstreams.app]
addrs = ["${backend.addr}"]
[plugins.zip]
type = "compression"
gzip_level = 9
[plugins.gzip_only]
type = "compression"
encodings = ["gzip"]
[plugins.big_mock]
type = "mock"
headers = ["Content-Type:text/html"]
body = "${'<p>hello compressed world</p>'.repeat(200)}"
[locations.z]
upstream = "app"
path = "/z"
plugins = ["zip"]
[locations.g]
upstream = "app"
path = "/g"
rewrite = "/z"
plugins = ["gzip_only"]
[locations.m]
path = "/m"
plugins = ["big_mock", "zip"]
[servers.main]
addr = "127.0.0.1:${port}"
locations = ["z", "g", "m"]
`)
})

after(async () => {
  await gateway?.stop()
  await backend?.close()
})

async function get(path: string, acceptEncoding?: string, method: 'GET' | 'HEAD' = 'GET') {
  const res = await request(`${base}${path}`, {
    method,
    headers: acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding },
  })
  return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) }
}

const decoders: Record<string, (b: Buffer) => Buffer> = { gzip: gunzipSync, br: brotliDecompressSync, zstd: zstdDecompressSync }

test('compresses with each coding the client asks for; the client decodes the same bytes', async () => {
  for (const coding of ['gzip', 'br', 'zstd']) {
    const res = await get('/z/text', coding)
    assert.equal(res.status, 200)
    assert.equal(res.headers['content-encoding'], coding)
    assert.equal(res.headers['content-length'], undefined)
    assert.match(String(res.headers.vary), /Accept-Encoding/)
    assert.equal(res.headers.etag, 'W/"v1"')
    assert.ok(res.body.length < TEXT.length / 4, `${coding} compresses`)
    assert.ok((decoders[coding] as (b: Buffer) => Buffer)(res.body).equals(TEXT), `${coding} round-trips`)
  }
})

test('picks by q-value and server preference, and honours the offered list', async () => {
  assert.equal((await get('/z/text', 'gzip;q=0.5, br;q=0.9')).headers['content-encoding'], 'br')
  assert.equal((await get('/z/text', 'gzip, deflate, br, zstd')).headers['content-encoding'], 'zstd')
  assert.equal((await get('/z/text', 'gzip, br;q=0, zstd;q=0')).headers['content-encoding'], 'gzip')
  assert.equal((await get('/g/text', 'br, zstd, gzip;q=0.1')).headers['content-encoding'], 'gzip')
  const none = await get('/z/text', 'identity')
  assert.equal(none.headers['content-encoding'], undefined)
  assert.match(String(none.headers.vary), /Accept-Encoding/)
  assert.ok(none.body.equals(TEXT))
})

test('compresses a streamed body of unknown length', async () => {
  const res = await get('/z/chunked', 'gzip')
  assert.equal(res.headers['content-encoding'], 'gzip')
  assert.ok(gunzipSync(res.body).equals(TEXT))
})

test('leaves small, unlisted, already-encoded, no-transform, HEAD and 204 responses alone', async () => {
  const small = await get('/z/small', 'gzip')
  assert.equal(small.headers['content-encoding'], undefined)
  assert.equal(small.body.toString(), 'tiny')
  assert.equal((await get('/z/png', 'gzip')).headers['content-encoding'], undefined)
  const encoded = await get('/z/encoded', 'gzip')
  assert.equal(encoded.headers['content-encoding'], 'gzip')
  assert.ok(gunzipSync(encoded.body).equals(TEXT), 'not compressed twice')
  const noTransform = await get('/z/no-transform', 'gzip')
  assert.equal(noTransform.headers['content-encoding'], undefined)
  assert.ok(noTransform.body.equals(TEXT))
  const head = await get('/z/text', 'gzip', 'HEAD')
  assert.equal(head.status, 200)
  assert.equal(head.body.length, 0)
  assert.equal((await get('/z/empty', 'gzip')).status, 204)
})

test('sends the upstream trailers after the compressed body', async () => {
  const res = await request(`${base}/z/trailers`, { headers: { 'accept-encoding': 'gzip' } })
  assert.equal(res.headers['content-encoding'], 'gzip')
  const body = Buffer.from(await res.body.arrayBuffer())
  assert.ok(gunzipSync(body).equals(TEXT))
  assert.equal(res.trailers['x-checksum'], 'sum-1')
})

test('compresses a plugin reply too', async () => {
  const res = await get('/m/x', 'br')
  assert.equal(res.headers['content-encoding'], 'br')
  assert.equal(brotliDecompressSync(res.body).toString(), '<p>hello compressed world</p>'.repeat(200))
})

test('flushes server-sent events one by one: the first arrives before the upstream sends the second', async () => {
  const res = await request(`${base}/z/sse`, { headers: { 'accept-encoding': 'zstd' } })
  assert.equal(res.headers['content-encoding'], 'zstd')
  const decoded = res.body.pipe(createZstdDecompress())
  let text = ''
  const timer = setTimeout(() => {
    const err = new Error('the first event was not flushed within 5 s')
    res.body.destroy(err)
    decoded.destroy(err)
  }, 5000)
  for await (const chunk of decoded) {
    text += chunk.toString()
    if (text === 'data: one\n\n') {
      clearTimeout(timer)
      sseNext?.()
    }
  }
  assert.equal(text, 'data: one\n\ndata: two\n\n')
})

test('backpressure reaches the upstream while the client does not read, and nothing is lost', async () => {
  bigWritten = 0
  const res = await request(`${base}/z/big`, { headers: { 'accept-encoding': 'zstd' } })
  assert.equal(res.headers['content-encoding'], 'zstd')
  await new Promise((resolve) => setTimeout(resolve, 1500))
  const stalledAt = bigWritten
  assert.ok(stalledAt < (BIG_CHUNK * BIG_CHUNKS) / 2, `upstream paused after ${stalledAt} bytes`)
  const hash = createHash('sha256')
  const decoded = res.body.pipe(createZstdDecompress())
  decoded.on('data', (chunk: Buffer) => hash.update(chunk))
  await once(decoded, 'end')
  assert.equal(hash.digest('hex'), bigHash)
})

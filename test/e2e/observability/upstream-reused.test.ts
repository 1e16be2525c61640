// `{upstream_reused}`: whether a request went out on a pooled upstream connection or a fresh
// one, for HTTP/1.1 upstreams (undici's pool), a backend that closes every connection, and
// HTTP/2 upstreams (the gateway's session pool).
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Http2Server } from 'node:http2'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { freePort, type GatewayProcess, startBackend, startGateway, type TestBackend, waitFor } from '@fleetgate/testkit'

let keepAlive: TestBackend
let closing: TestBackend
let h2: Http2Server
let gateway: GatewayProcess
let dir: string
let port: number
/** Connections the HTTP/2 backend accepted, to hold the log against. */
let h2Connections = 0

async function get(path: string): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`)
  assert.equal(res.status, 200, path)
  await res.arrayBuffer()
}

/** The log lines for `prefix`, once there are `n` of them: "path reused". */
async function logged(prefix: string, n: number): Promise<string[]> {
  const file = join(dir, 'access.log')
  let got: string[] = []
  await waitFor(
    `${n} lines for ${prefix}`,
    () => {
      const all = existsSync(file) ? readFileSync(file, 'utf8').split('\n') : []
      got = all.filter((l) => l.startsWith(prefix)).map((l) => l.split(' ')[1] as string)
      return got.length >= n
    },
    5_000,
  )
  return got
}

before(async () => {
  keepAlive = await startBackend('keep')
  closing = await startBackend('close', (_req, res) => {
    res.setHeader('connection', 'close')
    res.end('bye')
  })
  h2 = createServer((_req, res) => res.end('h2'))
  await new Promise<void>((resolve) => h2.listen(0, '127.0.0.1', resolve))
  h2.on('connection', () => h2Connections++)
  const h2Port = (h2.address() as { port: number }).port
  dir = await mkdtemp(join(tmpdir(), 'fleetgate-reused-'))
  port = await freePort()
  gateway = await startGateway(`
[upstreams.keep]
addrs = ["${keepAlive.addr}"]
[upstreams.close]
addrs = ["${closing.addr}"]
[upstreams.h2]
addrs = ["127.0.0.1:${h2Port}"]
alpn = "h2"

[locations.keep]
upstream = "keep"
path = "/keep"
[locations.close]
upstream = "close"
path = "/close"
[locations.h2]
upstream = "h2"
path = "/h2"

[servers.main]
addr = "127.0.0.1:${port}"
locations = ["keep", "close", "h2"]
access_log = "{path} {upstream_reused}"
access_log_path = ${JSON.stringify(join(dir, 'access.log'))}
`)
})

after(async () => {
  await gateway?.stop()
  await keepAlive?.close()
  await closing?.close()
  h2?.close()
  await rm(dir, { recursive: true, force: true })
})

test('an HTTP/1.1 upstream: the first request opens a connection, the next ones reuse it', async () => {
  for (let i = 0; i < 4; i++) await get('/keep')
  assert.deepEqual(await logged('/keep', 4), ['false', 'true', 'true', 'true'])
})

test('a backend that closes each connection: every request has a fresh one', async () => {
  for (let i = 0; i < 3; i++) await get('/close')
  assert.deepEqual(await logged('/close', 3), ['false', 'false', 'false'])
})

test('an HTTP/2 upstream: the session is opened once and its later streams reuse it', async () => {
  for (let i = 0; i < 3; i++) await get('/h2')
  assert.deepEqual(await logged('/h2', 3), ['false', 'true', 'true'])
  assert.equal(h2Connections, 1)
})

test('concurrent HTTP/1.1 requests: one fresh entry per connection the backend accepted', async () => {
  let connections = 0
  keepAlive.server.on('connection', () => connections++)
  const earlier = (await logged('/keep', 4)).length
  await Promise.all(Array.from({ length: 8 }, () => get('/keep')))
  const burst = (await logged('/keep', earlier + 8)).slice(earlier)
  assert.ok(connections > 0, 'the burst needed more than the one pooled connection')
  assert.equal(burst.filter((v) => v === 'false').length, connections)
  assert.equal(burst.filter((v) => v === 'true').length, 8 - connections)
})

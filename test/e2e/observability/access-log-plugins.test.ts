// Plugin values in the access log: who the request authenticated as, the cache's verdict, the
// rate limiter's verdict, and any plugin variable by name with {$name}.
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { freePort, type GatewayProcess, logLines, startBackend, startGateway, type TestBackend } from '@fleetgate/testkit'

let backend: TestBackend
let gateway: GatewayProcess
let dir: string
let port: number
let logPath: string

before(async () => {
  backend = await startBackend('api', (_req, res) =>
    res.writeHead(200, { 'cache-control': 'max-age=60', 'content-type': 'text/plain' }).end('ok'),
  )
  dir = await mkdtemp(join(tmpdir(), 'fleetgate-access-log-plugins-'))
  logPath = join(dir, 'access.log')
  port = await freePort()
  gateway = await startGateway(`
[upstreams.api]
addrs = ["${backend.addr}"]

[plugins.keys]
type = "key_auth"
header = "x-api-key"
consumers = [{ name = "alice", key = "alice-key" }]

[plugins.limit]
type = "limit"
rate = 1
burst = 2
key = "consumer"

[plugins.cache]
type = "cache"
default_ttl = "30s"

[plugins.rid]
type = "request_id"

[locations.api]
upstream = "api"
plugins = ["rid", "keys", "limit", "cache"]

[servers.main]
addr = "127.0.0.1:${port}"
locations = ["api"]
access_log = "{status} {consumer} {rate_limit} {cache_status} {request_id} {$request_id} {$no_such_var}"
access_log_path = ${JSON.stringify(logPath)}
`)
})

after(async () => {
  await gateway?.stop()
  await backend?.close()
  await rm(dir, { recursive: true, force: true })
})

test('consumer, rate-limit verdict, cache status and {$var} reach the access log', async () => {
  const statuses: number[] = []
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`http://127.0.0.1:${port}/item`, { headers: { 'x-api-key': 'alice-key' } })
    await res.arrayBuffer()
    statuses.push(res.status)
  }
  const anonymous = await fetch(`http://127.0.0.1:${port}/item`)
  await anonymous.arrayBuffer()
  assert.deepEqual(statuses, [200, 200, 429])
  assert.equal(anonymous.status, 401)

  const lines = await logLines(logPath, 4)
  const fields = lines.map((l) => l.split(' '))
  assert.deepEqual(fields[0]?.slice(0, 4), ['200', 'alice', 'allowed', '1'])
  assert.equal(fields[0]?.[4], 'MISS')
  assert.deepEqual(fields[1]?.slice(0, 5), ['200', 'alice', 'allowed', '0', 'HIT'])
  assert.deepEqual(fields[2]?.slice(0, 4), ['429', 'alice', 'refused', '-'])
  assert.deepEqual(fields[3]?.slice(0, 4), ['401', '-', '-', '-'], 'no consumer for a refused key')
  for (const f of fields) {
    assert.match(f.at(-2) ?? '', /^[0-9a-f-]{36}$/, '{$request_id} is the request_id plugin variable')
    assert.equal(f.at(-3), f.at(-2), '{request_id} is the id the plugin drew')
    assert.equal(f.at(-1), '-', 'an unknown plugin variable is "-"')
  }
})

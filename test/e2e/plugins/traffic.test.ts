// request_size_limit and limit through a real gateway process: 413 while streaming, rates
// measured over real (short) time windows, in-flight caps, and counters kept across a reload.
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort, type GatewayProcess, startBackend, startGateway, type TestBackend } from '@fleetgate/testkit'
import { Agent, request } from 'undici'

let backend: TestBackend
let slow: TestBackend
let gateway: GatewayProcess
let base: string
let port: number
const agent = new Agent({ connections: 16 })

function config(extra: { burst?: number; note?: string } = {}): string {
  return `
[upstreams.app]
addrs = ["${backend.addr}"]
[upstreams.slow]
addrs = ["${slow.addr}"]

[plugins.small]
type = "request_size_limit"
max_size = "1kb"
[plugins.per_ip]
type = "limit"
rate = 5
burst = 5
[plugins.per_user]
type = "limit"
rate = 1
burst = 2
key = "header:X-User"
[plugins.kept]
type = "limit"
rate = 0.1
burst = ${extra.burst ?? 3}
[plugins.two_at_a_time]
type = "limit"
inflight = 2

[locations.upload]
upstream = "app"
path = "/upload"
plugins = ["small"]
[locations.rate]
upstream = "app"
path = "/rate"
plugins = ["per_ip"]
[locations.user]
upstream = "app"
path = "/user"
plugins = ["per_user"]
[locations.kept]
upstream = "app"
path = "/kept"
plugins = ["kept"]
[locations.slow]
upstream = "slow"
path = "/slow"
plugins = ["two_at_a_time"]
${extra.note === undefined ? '' : `[locations.note]\nupstream = "app"\npath = "/${extra.note}"\n`}
[servers.main]
addr = "127.0.0.1:${port}"
locations = ["upload", "rate", "user", "kept", "slow"${extra.note === undefined ? '' : ', "note"'}]
`
}

before(async () => {
  backend = await startBackend('app')
  slow = await startBackend('slow', (_req, res) => {
    setTimeout(() => res.writeHead(200).end('slow'), 300)
  })
  port = await freePort()
  base = `http://127.0.0.1:${port}`
  gateway = await startGateway(config())
})

after(async () => {
  await agent.close()
  await gateway?.stop()
  await backend?.close()
  await slow?.close()
})

async function call(path: string, options: { headers?: Record<string, string>; method?: 'GET' | 'POST'; body?: string | Readable } = {}) {
  const res = await request(`${base}${path}`, {
    dispatcher: agent,
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    body: options.body ?? null,
  })
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() }
}

test('request_size_limit refuses a declared oversized body with 413 before the upstream sees it', async () => {
  const hits = backend.hits
  const res = await call('/upload', { method: 'POST', body: 'x'.repeat(2000) })
  assert.equal(res.status, 413)
  assert.equal(res.headers['x-fleetgate-error'], 'BODY_TOO_LARGE')
  assert.equal(backend.hits, hits)
  assert.equal((await call('/upload', { method: 'POST', body: 'x'.repeat(500) })).status, 200)
})

test('request_size_limit cuts a chunked body with 413 as it streams past the limit', async () => {
  // 16 chunks of 256 bytes, paced: the gateway must stop it before the last ones are even sent.
  let sent = 0
  const body = Readable.from(
    (async function* () {
      for (let i = 0; i < 16; i++) {
        sent++
        yield Buffer.alloc(256, 120)
        await sleep(20)
      }
    })(),
  )
  const own = new Agent()
  try {
    const res = await request(`${base}/upload`, { dispatcher: own, method: 'POST', body })
    assert.equal(res.statusCode, 413)
    await res.body.dump()
    assert.ok(sent < 16, `only ${sent} of 16 chunks should have been needed`)
  } finally {
    await own.close()
  }
})

test('limit lets burst + rate x time through over a real 2 s window and answers the rest 429', async () => {
  const started = performance.now()
  let ok = 0
  let limited = 0
  let last: Awaited<ReturnType<typeof call>> | undefined
  while (performance.now() - started < 2000) {
    const res = await call('/rate')
    if (res.status === 200) ok++
    else if (res.status === 429) {
      limited++
      last = res
    }
    await sleep(10)
  }
  // burst 5 + 5/s for 2 s = 15, give or take a token at the window's edges.
  assert.ok(ok >= 14 && ok <= 16, `${ok} allowed`)
  assert.ok(limited > 20, `${limited} limited`)
  assert.equal(last?.headers['retry-after'], '1')
  assert.equal(last?.headers['ratelimit-limit'], '5')
  assert.equal(last?.headers['ratelimit-remaining'], '0')
  assert.equal(last?.headers['x-fleetgate-error'], 'RATE_LIMITED')
})

test('limit keyed by header gives each value its own bucket and shares one among requests without it', async () => {
  const statuses = async (user: string | undefined) => {
    const out: number[] = []
    for (let i = 0; i < 3; i++) out.push((await call('/user', user === undefined ? {} : { headers: { 'x-user': user } })).status)
    return out
  }
  assert.deepEqual(await statuses('ann'), [200, 200, 429])
  assert.deepEqual(await statuses('ben'), [200, 200, 429])
  assert.deepEqual(await statuses(undefined), [200, 200, 429])
})

test('limit inflight answers 429 past the cap and frees the slots when requests end', async () => {
  const results = await Promise.all(Array.from({ length: 5 }, () => call('/slow')))
  const statuses = results.map((r) => r.status).sort()
  assert.deepEqual(statuses, [200, 200, 429, 429, 429])
  assert.equal((await call('/slow')).status, 200)
})

test('a reload that keeps a limit plugin config keeps its counters; changing it starts afresh', async () => {
  const first = []
  for (let i = 0; i < 4; i++) first.push((await call('/kept')).status)
  assert.deepEqual(first, [200, 200, 200, 429])
  await gateway.writeConfig(config({ note: 'note' }))
  await gateway.waitForGeneration(2)
  assert.equal((await call('/note')).status, 200, 'the new config is live')
  assert.equal((await call('/kept')).status, 429, 'the bucket is still empty after the reload')
  await gateway.writeConfig(config({ note: 'note', burst: 4 }))
  await gateway.waitForGeneration(3)
  assert.equal((await call('/kept')).status, 200, 'a changed limit config gets a fresh bucket')
})

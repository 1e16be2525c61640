// `Expect: 100-continue` through a real gateway process: the gateway answers 100 Continue
// itself and streams the body on without the header (undici refuses to send it), and a request
// undici refuses to build answers a gateway error that never counts against a backend.
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { after, before, test } from 'node:test'
import { freePort, type GatewayProcess, startBackend, startGateway, type TestBackend } from '@fleetgate/testkit'

let a: TestBackend
let b: TestBackend
let gateway: GatewayProcess
let port: number

const digest = (body: Buffer) => createHash('sha256').update(body).digest('hex')

/** Answers the length and digest of the body it read, and whether an Expect header arrived. */
const echoBody = (name: string) =>
  startBackend(name, (req, res, body) => {
    const text = JSON.stringify({ backend: name, length: body.length, sha256: digest(body), expect: req.headers.expect ?? null })
    res.writeHead(200, { 'content-type': 'application/json' }).end(text)
  })

before(async () => {
  a = await echoBody('a')
  b = await echoBody('b')
  port = await freePort()
  gateway = await startGateway(`
[upstreams.app]
addrs = ["${a.addr}", "${b.addr}"]
circuit_break_failures = 2

[locations.refused_te]
upstream = "app"
path = "/refused-te"
headers_add = ["Transfer-Encoding:gzip"]

[locations.refused_expect]
upstream = "app"
path = "/refused-expect"
headers_add = ["Expect:100-continue"]

[locations.app]
upstream = "app"
path = "/"

[servers.main]
addr = "127.0.0.1:${port}"
locations = ["refused_te", "refused_expect", "app"]
`)
})

after(async () => {
  await gateway?.stop()
  await a?.close()
  await b?.close()
})

interface Answer {
  status: number
  sawContinue: boolean
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** POSTs `body` the way curl does for large uploads: headers with Expect, the body only after 100 Continue. */
function postExpecting(path: string, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let sawContinue = false
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      path,
      method: 'POST',
      agent: false,
      headers: { expect: '100-continue', 'content-type': 'application/octet-stream', 'content-length': body.length },
    })
    req.on('continue', () => {
      sawContinue = true
      req.end(body)
    })
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, sawContinue, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      )
    })
    req.on('error', reject)
    req.flushHeaders()
  })
}

async function get(path: string): Promise<{ status: number; backend: string | undefined }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`)
  const text = await res.text()
  return { status: res.status, backend: res.status === 200 ? (JSON.parse(text) as { backend: string }).backend : undefined }
}

/** Both backends still take requests: round robin over four GETs reaches each. */
async function assertBothBackendsServe(): Promise<void> {
  const seen = new Set<string | undefined>()
  for (let i = 0; i < 4; i++) {
    const { status, backend } = await get('/health-probe')
    assert.equal(status, 200)
    seen.add(backend)
  }
  assert.deepEqual([...seen].sort(), ['a', 'b'])
}

test('forwards a small body sent after 100 Continue, without the Expect header', async () => {
  const body = Buffer.from('hello, expect')
  for (let i = 0; i < 5; i++) {
    const res = await postExpecting('/upload', body)
    assert.equal(res.status, 200, res.body)
    assert.equal(res.sawContinue, true)
    const seen = JSON.parse(res.body) as { length: number; sha256: string; expect: string | null }
    assert.deepEqual(seen, { ...seen, length: body.length, sha256: digest(body), expect: null })
  }
  await assertBothBackendsServe()
})

test('forwards a 2 MB body sent after 100 Continue intact, more times than circuit_break_failures', async () => {
  const body = randomBytes(2 * 1024 * 1024)
  for (let i = 0; i < 4; i++) {
    const res = await postExpecting('/upload', body)
    assert.equal(res.status, 200, res.body)
    const seen = JSON.parse(res.body) as { length: number; sha256: string }
    assert.equal(seen.length, body.length)
    assert.equal(seen.sha256, digest(body))
  }
  await assertBothBackendsServe()
})

test('answers a request undici refuses to build with REQUEST_NOT_FORWARDABLE, never blaming a backend', async () => {
  const hitsBefore = a.hits + b.hits
  for (const path of ['/refused-te', '/refused-expect']) {
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`)
      const body = (await res.json()) as { error: { code: string } }
      assert.equal(res.status, 500)
      assert.equal(res.headers.get('x-fleetgate-error'), 'REQUEST_NOT_FORWARDABLE')
      assert.equal(body.error.code, 'REQUEST_NOT_FORWARDABLE')
    }
  }
  // Not retried elsewhere (no backend saw any of them), and no backend ejected.
  assert.equal(a.hits + b.hits, hitsBefore)
  await assertBothBackendsServe()
})

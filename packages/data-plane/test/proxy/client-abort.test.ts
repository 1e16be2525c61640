// How a request the client abandoned is recorded, through a real gateway process with a slow
// backend: 499 and CLIENT_CLOSED (nginx's convention) in the access log and the metrics when no
// head went out, the head's status with CLIENT_CLOSED when the body was cut. And the gateway's
// own error answers (404 NO_ROUTE, 400 for `GET *`) logged with their real body size.
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort, type GatewayProcess, rawRequest, startBackend, startGateway, type TestBackend, waitFor } from '@fleetgate/testkit'

let backend: TestBackend
let gateway: GatewayProcess
let dir: string
let port: number
let combinedPort: number
const pending = new Set<NodeJS.Timeout>()

before(async () => {
  backend = await startBackend('slow', (req, res) => {
    if (req.url === '/slow') {
      pending.add(setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('late'), 1500))
      return
    }
    // /cut: the head goes out at once, the body never ends.
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.write('first part')
  })
  dir = await mkdtemp(join(tmpdir(), 'fleetgate-client-abort-'))
  port = await freePort()
  combinedPort = await freePort()
  gateway = await startGateway(`
[upstreams.slow]
addrs = ["${backend.addr}"]

[locations.slow]
upstream = "slow"
path = "/"

[locations.api]
upstream = "slow"
path = "/api/"

[servers.main]
addr = "127.0.0.1:${port}"
locations = ["slow"]
access_log = "json"
access_log_path = ${JSON.stringify(join(dir, 'json.log'))}

[servers.combined]
addr = "127.0.0.1:${combinedPort}"
locations = ["api"]
access_log = "combined"
access_log_path = ${JSON.stringify(join(dir, 'combined.log'))}
`)
})

after(async () => {
  for (const t of pending) clearTimeout(t)
  await gateway?.stop()
  await backend?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
})

/** The lines of `file` once there are `n` (the log is written asynchronously). */
async function logLines(file: string, n: number): Promise<string[]> {
  let got: string[] = []
  await waitFor(
    `${n} lines in ${file}`,
    () => {
      got = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []
      return got.length >= n
    },
    5_000,
  )
  return got
}

async function metric(line: RegExp): Promise<number> {
  const text = await (await fetch(`${gateway.statusUrl}/metrics`)).text()
  const found = text.split('\n').find((l) => line.test(l))
  return found === undefined ? 0 : Number(found.slice(found.lastIndexOf(' ') + 1))
}

const clientClosedErrors = /^fleetgate_http_errors_total\{.*code="CLIENT_CLOSED".*\} /
const slow4xx = /^fleetgate_http_requests_total\{.*server="main".*status_class="4xx".*\} /
const slow2xx = /^fleetgate_http_requests_total\{.*server="main".*status_class="2xx".*\} /

test('records 499 CLIENT_CLOSED for a client that gave up before the response head', async () => {
  const before4xx = await metric(slow4xx)
  const before2xx = await metric(slow2xx)
  await assert.rejects(fetch(`http://127.0.0.1:${port}/slow`, { signal: AbortSignal.timeout(300) }))
  const [line] = await logLines(join(dir, 'json.log'), 1)
  const entry = JSON.parse(line as string) as { path: string; status: number; error: string | null }
  assert.deepEqual([entry.path, entry.status, entry.error], ['/slow', 499, 'CLIENT_CLOSED'])
  assert.equal(await metric(slow4xx), before4xx + 1)
  assert.equal(await metric(slow2xx), before2xx)
  assert.ok((await metric(clientClosedErrors)) >= 1)
})

test('records the head status with CLIENT_CLOSED for a client that left during the body', async () => {
  const controller = new AbortController()
  const res = await fetch(`http://127.0.0.1:${port}/cut`, { signal: controller.signal })
  assert.equal(res.status, 200)
  await sleep(100)
  controller.abort()
  const lines = await logLines(join(dir, 'json.log'), 2)
  const entry = JSON.parse(lines[1] as string) as { path: string; status: number; error: string | null }
  assert.deepEqual([entry.path, entry.status, entry.error], ['/cut', 200, 'CLIENT_CLOSED'])
})

test('logs the body size of the gateway error answers in the combined format', async () => {
  const notFound = await rawRequest(combinedPort, 'GET /nope HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n')
  assert.equal(notFound.status, 404)
  const star = await rawRequest(combinedPort, 'GET * HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n')
  assert.equal(star.status, 400)
  const lines = await logLines(join(dir, 'combined.log'), 2)
  const sizes = lines.map((l) => /" (\d{3}) (\d+) "/.exec(l)?.slice(1).map(Number))
  assert.deepEqual(sizes, [
    [404, notFound.body.length],
    [400, star.body.length],
  ])
  assert.ok(notFound.body.length > 0)
})

// Graceful shutdown on SIGTERM: an in-flight request completes, the process exits 0 within
// grace_period, and a request outliving grace_period does not keep the process alive and is
// logged as cut off by the gateway (503 SHUTDOWN_CUT), not as a client that left (499).
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { freePort, type GatewayProcess, startBackend, startGateway, type TestBackend } from '@fleetgate/testkit'
import { Agent, request } from 'undici'

const started: Array<GatewayProcess | TestBackend> = []
const agent = new Agent()
let dir: string | undefined

after(async () => {
  await agent.close()
  for (const thing of started) {
    if ('configPath' in thing) await thing.stop()
    else await thing.close()
  }
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

/**
 * A gateway with `grace` in front of a backend that answers after `delayMs`; resolves once the
 * backend holds a request. `accessLog` is a file the JSON access log goes to.
 */
async function slowSetup(grace: string, delayMs: number, accessLog?: string) {
  let received: () => void = () => {}
  const arrived = new Promise<void>((resolve) => {
    received = resolve
  })
  const backend = await startBackend('slow', (_req, res) => {
    received()
    // unref: a request the gateway cut off must not keep this test process alive.
    setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('finally'), delayMs).unref()
  })
  started.push(backend)
  const port = await freePort()
  const gateway = await startGateway(`
[basic]
grace_period = "${grace}"

[upstreams.slow]
addrs = ["${backend.addr}"]

[locations.slow]
upstream = "slow"

[servers.main]
addr = "127.0.0.1:${port}"
locations = ["slow"]
${accessLog === undefined ? '' : `access_log = "json"\naccess_log_path = ${JSON.stringify(accessLog)}`}
`)
  started.push(gateway)
  const exited = once(gateway.process.child, 'exit') as Promise<[number | null, string | null]>
  return { port, gateway, arrived, exited }
}

test('a request in flight at SIGTERM completes with 200 and the process exits 0 within grace_period', async () => {
  const { port, gateway, arrived, exited } = await slowSetup('3s', 500)
  const response = request(`http://127.0.0.1:${port}/slow`, { dispatcher: agent })
  await arrived
  const signalled = performance.now()
  process.kill(gateway.process.pid, 'SIGTERM')
  const res = await response
  assert.equal(res.statusCode, 200)
  assert.equal(await res.body.text(), 'finally')
  const [code, signal] = await exited
  const elapsed = performance.now() - signalled
  assert.equal(signal, null)
  assert.equal(code, 0)
  assert.ok(elapsed < 3000, `exited ${elapsed} ms after SIGTERM, grace_period is 3 s`)
})

test('a request outliving grace_period is cut off and the process still exits 0 soon after', async () => {
  const { port, gateway, arrived, exited } = await slowSetup('500ms', 10_000)
  const response = request(`http://127.0.0.1:${port}/slow`, { dispatcher: agent }).then(
    (res) => res.statusCode,
    (err: Error) => err,
  )
  await arrived
  const signalled = performance.now()
  process.kill(gateway.process.pid, 'SIGTERM')
  const [code] = await exited
  const elapsed = performance.now() - signalled
  assert.equal(code, 0)
  assert.ok(elapsed >= 400 && elapsed < 3000, `exited ${elapsed} ms after SIGTERM, grace_period is 500 ms`)
  assert.ok((await response) instanceof Error, 'the cut-off request should fail on the client side')
})

test('a request cut off when grace_period ends is logged as 503 SHUTDOWN_CUT, not as a client that left', async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleetgate-shutdown-'))
  const accessLog = join(dir, 'access.log')
  const { port, gateway, arrived, exited } = await slowSetup('300ms', 10_000, accessLog)
  const response = request(`http://127.0.0.1:${port}/cut-off`, { dispatcher: agent }).then(
    (res) => res.statusCode,
    (err: Error) => err,
  )
  await arrived
  process.kill(gateway.process.pid, 'SIGTERM')
  const [code] = await exited
  assert.equal(code, 0)
  assert.ok((await response) instanceof Error, 'the cut-off request should fail on the client side')
  const lines = readFileSync(accessLog, 'utf8').split('\n').filter(Boolean)
  const entries = lines.map((l) => JSON.parse(l) as { path: string; status: number; error: string | null; upstream_addr: string | null })
  assert.deepEqual(
    entries.map((e) => [e.path, e.status, e.error]),
    [['/cut-off', 503, 'SHUTDOWN_CUT']],
  )
})

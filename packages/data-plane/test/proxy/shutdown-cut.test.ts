// A request still in flight when a graceful shutdown's grace_period ends is cut off by the
// gateway: its metrics (and the observer every log reads) say 503 SHUTDOWN_CUT, not the 499
// CLIENT_CLOSED of a client that left. In process, so the metrics can be read after the cut.
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { configHash } from '@fleetgate/schema'
import { freePort, startBackend, type TestBackend } from '@fleetgate/testkit'
import { Registry } from 'prom-client'
import { request } from 'undici'
import { createGateway, type Gateway } from '../../src/gateway.ts'
import { createObservability } from '../../src/observability/observability.ts'
import type { ForwardOutcome } from '../../src/proxy/forward.ts'
import { recordingLogger, tomlConfig } from '../tls/tls-fixture.ts'

let backend: TestBackend | undefined
const pending = new Set<NodeJS.Timeout>()

after(async () => {
  for (const t of pending) clearTimeout(t)
  await backend?.close()
})

test('a request cut off when grace_period ends is counted as 503 SHUTDOWN_CUT', async () => {
  let arrived: () => void = () => {}
  const held = new Promise<void>((resolve) => {
    arrived = resolve
  })
  backend = await startBackend('slow', (_req, res) => {
    arrived()
    pending.add(setTimeout(() => res.writeHead(200).end('late'), 10_000))
  })
  const port = await freePort()
  const { logger } = recordingLogger()
  const registry = new Registry()
  const outcomes: ForwardOutcome[] = []
  let gateway: Gateway | undefined
  const observability = createObservability({ logger, registry, gateway: () => gateway })
  gateway = createGateway({ logger, observability, observe: (_req, _server, _location, outcome) => outcomes.push(outcome) })
  const config = tomlConfig(`
[basic]
grace_period = "300ms"

[upstreams.slow]
addrs = ["${backend.addr}"]

[locations.slow]
upstream = "slow"

[servers.main]
addr = "127.0.0.1:${port}"
locations = ["slow"]
`)
  await gateway.apply(config, { generation: 1, sha256: configHash(config), source: 'test' })
  const response = request(`http://127.0.0.1:${port}/cut-off`).then(
    (res) => res.statusCode,
    (err: Error) => err,
  )
  await held
  await gateway.shutdown()
  assert.ok((await response) instanceof Error, 'the cut-off request should fail on the client side')
  assert.deepEqual(
    outcomes.map((o) => [o.status, o.error]),
    [[503, 'SHUTDOWN_CUT']],
  )
  const metrics = await registry.metrics()
  assert.match(metrics, /^fleetgate_http_errors_total\{code="SHUTDOWN_CUT"\} 1$/m)
  assert.doesNotMatch(metrics, /code="CLIENT_CLOSED"/)
  assert.match(metrics, /^fleetgate_http_requests_total\{[^}]*location="slow"[^}]*status_class="5xx"\} 1$/m)
  assert.doesNotMatch(metrics, /status_class="4xx"\} [1-9]/)
})

// A client that leaves while a plugin is still deciding (an asynchronous request hook: here the
// mock plugin's delay) is recorded as 499 CLIENT_CLOSED, as one that leaves while the backend
// answers: through a real gateway process and a raw socket closed mid-wait.
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort, type GatewayProcess, jsonLogEntry, metricValue, startBackend, startGateway, type TestBackend } from '@fleetgate/testkit'

let backend: TestBackend
let gateway: GatewayProcess
let dir: string
let port: number

before(async () => {
  backend = await startBackend('app')
  dir = await mkdtemp(join(tmpdir(), 'fleetgate-plugin-wait-abort-'))
  port = await freePort()
  gateway = await startGateway(`
[upstreams.app]
addrs = ["${backend.addr}"]

[plugins.slow_stub]
type = "mock"
status = 202
body = "mocked"
delay = "500ms"

[locations.stub]
upstream = "app"
path = "/"
plugins = ["slow_stub"]

[servers.main]
addr = "127.0.0.1:${port}"
locations = ["stub"]
access_log = "json"
access_log_path = ${JSON.stringify(join(dir, 'access.log'))}
`)
})

after(async () => {
  await gateway?.stop()
  await backend?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
})

test('a client gone while a plugin waits is logged 499 CLIENT_CLOSED, not the answer it never got', async () => {
  const socket = connect(port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  socket.write('GET /waiting HTTP/1.1\r\nHost: gw.test\r\n\r\n')
  await sleep(100)
  socket.destroy()
  const entry = await jsonLogEntry<{ path: string; status: number; error: string | null }>(join(dir, 'access.log'), '/waiting')
  assert.deepEqual([entry.path, entry.status, entry.error], ['/waiting', 499, 'CLIENT_CLOSED'])
  assert.equal(await metricValue(gateway.statusUrl, /^fleetgate_http_errors_total\{.*code="CLIENT_CLOSED".*\} /), 1)
})

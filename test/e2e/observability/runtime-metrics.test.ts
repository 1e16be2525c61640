// Circuit state, ejections and plugin refusals on /metrics, after real failures and refusals.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { after, before, test } from 'node:test'
import { freePort, type GatewayProcess, refusedPort, startBackend, startGateway, type TestBackend } from '@fleetgate/testkit'

let backend: TestBackend
let gateway: GatewayProcess
let text: string
let deadPort: number

function sample(name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue
    const body = line.slice(name.length + 1, line.lastIndexOf('}'))
    if (Object.entries(labels).every(([k, v]) => body.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return undefined
}

before(async () => {
  backend = await startBackend('api')
  deadPort = await refusedPort()
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  gateway = await startGateway(`
[upstreams.api]
addrs = ["${backend.addr}"]

[upstreams.dead]
addrs = ["127.0.0.1:${deadPort}"]
circuit_break_failures = 1
circuit_break_open_duration = "1h"

[plugins.slow_down]
type = "limit"
rate = 0.01
burst = 2

[locations.api]
upstream = "api"
path = "/api"
plugins = ["slow_down"]

[locations.dead]
upstream = "dead"
path = "/dead"

[servers.main]
addr = "127.0.0.1:${port}"
locations = ["api", "dead"]
`)
  for (let i = 0; i < 5; i++) await (await fetch(`${base}/api/x`)).text()
  assert.equal((await fetch(`${base}/dead/x`)).status, 502)
  text = await (await fetch(`${gateway.statusUrl}/metrics`)).text()
})

after(async () => {
  await gateway?.stop()
  await backend?.close()
})

test('counts rate-limit refusals by plugin and code', () => {
  assert.equal(sample('fleetgate_plugin_refusals_total', { plugin: 'slow_down', code: 'RATE_LIMITED' }), 3)
})

test('shows an ejected backend as open and counts the ejection', () => {
  const dead = { upstream: 'dead', backend: `127.0.0.1:${deadPort}` }
  assert.equal(sample('fleetgate_upstream_circuit_state', { ...dead, state: 'open' }), 1)
  assert.equal(sample('fleetgate_upstream_circuit_state', { ...dead, state: 'closed' }), 0)
  assert.equal(sample('fleetgate_upstream_ejections_total', dead), 1)
  const live = { upstream: 'api', backend: backend.addr }
  assert.equal(sample('fleetgate_upstream_circuit_state', { ...live, state: 'closed' }), 1)
  assert.equal(sample('fleetgate_upstream_ejections_total', live), 0)
})

test('has no plugin error series while no plugin failed', () => {
  assert.doesNotMatch(text, /^fleetgate_plugin_errors_total\{/m)
  assert.match(text, /^# TYPE fleetgate_plugin_errors_total counter$/m)
})

test('passes promtool check metrics', (t) => {
  if (spawnSync('sh', ['-c', 'command -v promtool']).status !== 0) {
    t.skip('promtool is not installed (Debian package "prometheus")')
    return
  }
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 })
  assert.equal(run.status, 0, `promtool: ${run.stdout}${run.stderr}`)
})

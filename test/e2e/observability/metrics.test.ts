// Request metrics on the status listener after real requests through a real gateway.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { after, before, describe, test } from 'node:test'
import { freePort, type GatewayProcess, startBackend, startGateway, type TestBackend } from '@fleetgate/testkit'

let backend: TestBackend
let gateway: GatewayProcess
let base: string
let text: string

/** The value of the sample `name{labels}` where every given label matches; undefined when absent. */
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
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  gateway = await startGateway(`
[upstreams.api]
addrs = ["${backend.addr}", "127.0.0.1:1"]
algorithm = "round_robin"

[locations.api]
upstream = "api"
path = "/api"

[servers.main]
addr = "127.0.0.1:${port}"
locations = ["api"]
`)
  for (let i = 0; i < 4; i++) await (await fetch(`${base}/api/items/${i}?secret=${i}`)).text()
  await (await fetch(`${base}/api/items`, { method: 'POST', body: 'x'.repeat(1000) })).text()
  await (await fetch(`${base}/api/items`, { method: 'PROPFIND' })).text()
  await (await fetch(`${base}/nothing-here`)).text()
  text = await (await fetch(`${gateway.statusUrl}/metrics`)).text()
})

after(async () => {
  await gateway?.stop()
  await backend?.close()
})

describe('request metrics', () => {
  const route = { server: 'main', location: 'api', upstream: 'api' }
  test('counts requests by server, location, upstream, method class and status class', () => {
    assert.equal(sample('fleetgate_http_requests_total', { ...route, method_class: 'GET', status_class: '2xx' }), 4)
    assert.equal(sample('fleetgate_http_requests_total', { ...route, method_class: 'POST', status_class: '2xx' }), 1)
  })
  test('puts unknown methods in the "other" class', () => {
    assert.equal(sample('fleetgate_http_requests_total', { ...route, method_class: 'other', status_class: '2xx' }), 1)
  })
  test('counts unrouted requests with an empty location and their error code', () => {
    assert.equal(sample('fleetgate_http_requests_total', { location: '', method_class: 'GET', status_class: '4xx' }), 1)
    assert.equal(sample('fleetgate_http_errors_total', { code: 'NO_ROUTE' }), 1)
  })
  test('never labels a series with a raw path or query', () => {
    assert.doesNotMatch(text, /items|secret=|nothing-here/)
  })
  test('fills the duration histogram buckets cumulatively up to the count', () => {
    const count = sample('fleetgate_http_request_duration_seconds_count', route)
    assert.equal(count, 6)
    assert.equal(sample('fleetgate_http_request_duration_seconds_bucket', { ...route, le: '+Inf' }), 6)
    assert.ok((sample('fleetgate_http_request_duration_seconds_sum', route) as number) > 0)
    let previous = 0
    for (const le of ['0.001', '0.01', '0.1', '1', '10', '60']) {
      const v = sample('fleetgate_http_request_duration_seconds_bucket', { ...route, le }) as number
      assert.ok(v >= previous, `bucket le=${le} is cumulative`)
      previous = v
    }
    assert.equal(sample('fleetgate_upstream_response_duration_seconds_count', route), 6)
  })
  test('counts request body bytes and response body bytes', () => {
    assert.equal(sample('fleetgate_http_request_bytes_total', route), 1000)
    assert.ok((sample('fleetgate_http_response_bytes_total', route) as number) > 0)
  })
  test('counts retries to the dead backend and reports it down only after failures', () => {
    assert.ok((sample('fleetgate_upstream_retries_total', route) as number) >= 1)
    assert.equal(sample('fleetgate_upstream_backend_up', { upstream: 'api', backend: backend.addr }), 1)
    assert.notEqual(sample('fleetgate_upstream_backend_up', { upstream: 'api', backend: '127.0.0.1:1' }), undefined)
  })
  test('reports the active requests gauge (the scrape itself is not a proxied request)', () => {
    assert.equal(sample('fleetgate_http_active_requests', {}) ?? Number(/^fleetgate_http_active_requests (\d+)$/m.exec(text)?.[1]), 0)
  })
  test('passes promtool check metrics', (t) => {
    const found = spawnSync('sh', ['-c', 'command -v promtool'])
    if (found.status !== 0) {
      t.skip('promtool is not installed (Debian package "prometheus"); skipping the lint check')
      return
    }
    const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 })
    assert.equal(run.status, 0, `promtool: ${run.stdout}${run.stderr}`)
  })
})

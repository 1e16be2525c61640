// The control plane's GET /metrics: publishes, rejections, rollbacks, the fleet by state and store
// errors, counted on a real fleet (etcd, `fleetgate control-plane`, one `fleetgate proxy --etcd`).
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { after, before, describe, test } from 'node:test'
import { startBackend, startFleet, type TestBackend, type TestFleet, waitFor } from '@fleetgate/testkit'

let fleet: TestFleet
let backend: TestBackend

const config = (path: string, upstream = 'api') => ({
  upstreams: { api: { addrs: [backend.addr] } },
  locations: { app: { path, upstream } },
  servers: { main: { addr: '127.0.0.1:0', locations: ['app'] } },
})

async function scrape(): Promise<string> {
  const res = await fetch(`${fleet.adminUrl}/metrics`)
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/)
  return await res.text()
}

/** The value of `name{labels}` (every given label matching), or of `name` without labels; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) && Object.keys(labels).length === 0) return Number(line.slice(name.length + 1))
    if (!line.startsWith(`${name}{`)) continue
    const body = line.slice(name.length + 1, line.lastIndexOf('}'))
    if (Object.entries(labels).every(([k, v]) => body.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return undefined
}

describe('control plane metrics', { timeout: 120_000 }, () => {
  before(async () => {
    backend = await startBackend('api')
    fleet = await startFleet({ nodes: 1 })
  })
  after(async () => {
    await fleet?.stop()
    await backend?.close()
  })

  test('serves /metrics without a token', async () => {
    const text = await scrape()
    assert.equal(sample(text, 'fleetgate_control_plane_generation'), 0)
    assert.match(text, /^process_cpu_user_seconds_total /m)
  })

  test('counts an API publish and an unchanged one, and times them', async () => {
    const first = await fleet.api('PUT', '/config', JSON.stringify(config('/')))
    assert.equal(first.status, 200, JSON.stringify(first.body))
    const again = await fleet.api('PUT', '/config', JSON.stringify(config('/')))
    assert.equal(again.body.published, false)
    const text = await scrape()
    assert.equal(sample(text, 'fleetgate_control_plane_publishes_total', { source: 'api', result: 'ok' }), 1)
    assert.equal(sample(text, 'fleetgate_control_plane_publishes_total', { source: 'api', result: 'unchanged' }), 1)
    assert.equal(sample(text, 'fleetgate_control_plane_publish_duration_seconds_count', { source: 'api' }), 2)
    assert.ok((sample(text, 'fleetgate_control_plane_publish_duration_seconds_sum', { source: 'api' }) as number) > 0)
    assert.equal(sample(text, 'fleetgate_control_plane_generation'), first.body.generation)
  })

  test('counts the node as current once it applied the generation', async () => {
    const { body } = await fleet.api('GET', '/publish')
    await fleet.waitForGeneration(body.generation)
    await waitFor(
      'node reported current',
      async () => sample(await scrape(), 'fleetgate_control_plane_nodes', { state: 'current' }) === 1,
      15_000,
    )
    const text = await scrape()
    for (const state of ['behind', 'rejected', 'stale']) assert.equal(sample(text, 'fleetgate_control_plane_nodes', { state }), 0, state)
  })

  test('counts an invalid write as rejected and a validation failure, and a failed validate call', async () => {
    const bad = await fleet.api('PUT', '/config', JSON.stringify(config('/', 'nope')))
    assert.equal(bad.status, 400)
    const check = await fleet.api('POST', '/validate', JSON.stringify(config('/', 'nope')))
    assert.equal(check.status, 400, JSON.stringify(check.body))
    const text = await scrape()
    assert.equal(sample(text, 'fleetgate_control_plane_publishes_total', { source: 'api', result: 'rejected' }), 1)
    assert.equal(sample(text, 'fleetgate_control_plane_validation_failures_total'), 2)
  })

  test('counts an invalid etcdctl edit as a rejected edit', async () => {
    await fleet.etcd.etcdctl(['put', `/fleetgate/${fleet.cluster}/desired/locations/app`, 'path = "/"\nupstream = "purple"\n'])
    await waitFor(
      'edit rejected',
      async () => sample(await scrape(), 'fleetgate_control_plane_publishes_total', { source: 'edit', result: 'rejected' }) === 1,
      10_000,
    )
    assert.equal(sample(await scrape(), 'fleetgate_control_plane_validation_failures_total'), 3)
  })

  test('counts a rollback', async () => {
    const second = await fleet.api('PUT', '/config', JSON.stringify(config('/v2')))
    assert.equal(second.status, 200, JSON.stringify(second.body))
    const rollback = await fleet.api('POST', '/rollback', JSON.stringify({ to: second.body.generation - 1 }))
    assert.equal(rollback.status, 200, JSON.stringify(rollback.body))
    const text = await scrape()
    assert.equal(sample(text, 'fleetgate_control_plane_rollbacks_total'), 1)
    assert.equal(sample(text, 'fleetgate_control_plane_publishes_total', { source: 'rollback', result: 'ok' }), 1)
    assert.equal(sample(text, 'fleetgate_control_plane_generation'), rollback.body.generation)
  })

  test('counts store errors while etcd is unreachable, and still answers /metrics', async () => {
    const before = await scrape()
    assert.equal(sample(before, 'fleetgate_control_plane_store_errors_total'), 0)
    assert.equal(sample(before, 'fleetgate_control_plane_store_up'), 1)
    const generation = sample(before, 'fleetgate_control_plane_generation')
    await fleet.etcd.whileUnreachable(async () => {
      const res = await fleet.api('GET', '/versions')
      assert.equal(res.status, 503)
      const text = await scrape()
      assert.equal(sample(text, 'fleetgate_control_plane_store_up'), 0)
      assert.equal(sample(text, 'fleetgate_control_plane_generation'), generation, 'the last known generation stays')
      // The failed /versions call; the scrape's own failed read shows from the next scrape on.
      assert.equal(sample(text, 'fleetgate_control_plane_store_errors_total'), 1)
      assert.ok((sample(await scrape(), 'fleetgate_control_plane_store_errors_total') as number) >= 2)
    })
  })

  test('passes promtool check metrics', async (t) => {
    if (spawnSync('sh', ['-c', 'command -v promtool']).status !== 0) {
      t.skip('promtool is not installed (Debian package "prometheus")')
      return
    }
    const run = spawnSync('promtool', ['check', 'metrics'], { input: await scrape(), encoding: 'utf8', timeout: 20_000 })
    assert.equal(run.status, 0, `promtool: ${run.stdout}${run.stderr}`)
  })
})

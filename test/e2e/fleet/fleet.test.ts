// The fleet end to end: real etcd, `fleetgate control-plane` and three `fleetgate proxy --etcd`
// processes. Changes go in through the admin API and etcdctl; every node must serve them.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startBackend, startFleet, type TestBackend, type TestFleet, waitFor } from '@fleetgate/testkit'

let fleet: TestFleet
let blue: TestBackend
let green: TestBackend

function config(routes: Record<string, { path: string; upstream: string }>) {
  return {
    upstreams: { blue: { addrs: [blue.addr] }, green: { addrs: [green.addr] } },
    locations: Object.fromEntries(Object.entries(routes).map(([name, r]) => [name, { path: r.path, upstream: r.upstream }])),
    servers: { main: { addr: '127.0.0.1:0', locations: Object.keys(routes) } },
  }
}

/** The backend name each node answers `path` with (or the status when not 200). */
async function servedBy(path: string): Promise<string[]> {
  return await Promise.all(
    fleet.nodes.map(async (node) => {
      const res = await fetch(`${node.url}${path}`)
      const text = await res.text()
      return res.status === 200 ? (JSON.parse(text) as { backend: string }).backend : String(res.status)
    }),
  )
}

async function generationNow(): Promise<number> {
  const { body } = await fleet.api('GET', '/publish')
  return body.generation as number
}

describe('fleet', { timeout: 120_000 }, () => {
  before(async () => {
    blue = await startBackend('blue')
    green = await startBackend('green')
    fleet = await startFleet({ nodes: 3 })
  })
  after(async () => {
    await fleet?.stop()
    await blue?.close()
    await green?.close()
  })

  test('a config applied through the admin API is served by every node', async () => {
    const put = await fleet.api('PUT', '/config', JSON.stringify(config({ app: { path: '/', upstream: 'blue' } })))
    assert.equal(put.status, 200, JSON.stringify(put.body))
    assert.equal(typeof put.body.generation, 'number')
    await fleet.waitForGeneration(put.body.generation)
    assert.deepEqual(await servedBy('/x'), ['blue', 'blue', 'blue'])
  })

  test('an etcdctl edit under desired/ is published and served by every node', async () => {
    const before = await generationNow()
    const key = `/fleetgate/${fleet.cluster}/desired/locations/app`
    await fleet.etcd.etcdctl(['put', key, 'path = "/"\nupstream = "green"\n'])
    await waitFor('etcdctl edit published', async () => (await generationNow()) > before, 10_000)
    await fleet.waitForGeneration(await generationNow())
    assert.deepEqual(await servedBy('/x'), ['green', 'green', 'green'])
  })

  test('an invalid etcdctl edit is refused and every node keeps serving', async () => {
    const before = await generationNow()
    const key = `/fleetgate/${fleet.cluster}/desired/locations/app`
    await fleet.etcd.etcdctl(['put', key, 'path = "/"\nupstream = "purple"\n'])
    await waitFor('publish rejected', async () => (await fleet.api('GET', '/publish')).body.state === 'rejected', 10_000)
    const status = await fleet.api('GET', '/publish')
    assert.ok(
      status.body.errors.some((e: { path: string }) => e.path === 'locations.app.upstream'),
      JSON.stringify(status.body),
    )
    assert.equal(await generationNow(), before)
    assert.deepEqual(await servedBy('/x'), ['green', 'green', 'green'])
    await fleet.etcd.etcdctl(['put', key, 'path = "/"\nupstream = "green"\n'])
    await waitFor('publish ok again', async () => (await fleet.api('GET', '/publish')).body.state === 'ok', 10_000)
  })

  test('a rollback reaches every node', async () => {
    const versions = await fleet.api('GET', '/versions')
    const first = versions.body.versions?.at(-1)?.generation
    assert.equal(typeof first, 'number', JSON.stringify(versions.body))
    const rolled = await fleet.api('POST', '/rollback', JSON.stringify({ to: first }))
    assert.equal(rolled.status, 200, JSON.stringify(rolled.body))
    await fleet.waitForGeneration(rolled.body.generation)
    assert.deepEqual(await servedBy('/x'), ['blue', 'blue', 'blue'])
    const release = await fleet.api('POST', '/publish/release', '{}')
    assert.equal(release.status, 200, JSON.stringify(release.body))
    await fleet.waitForGeneration(release.body.generation)
  })

  test('every node keeps serving while etcd is killed and restarted under traffic', async () => {
    let failures = 0
    let ok = 0
    let running = true
    const loop = async (url: string) => {
      while (running) {
        const res = await fetch(`${url}/x`).catch(() => undefined)
        if (res?.status === 200) ok++
        else failures++
        await res?.text()
      }
    }
    const loops = fleet.nodes.map((n) => loop(n.url))
    await fleet.etcd.restart({ downMs: 1500 })
    running = false
    await Promise.all(loops)
    assert.equal(failures, 0)
    assert.ok(ok > 30, `only ${ok} requests went through`)
    for (const node of fleet.nodes) assert.equal((await fetch(`${node.statusUrl}/readyz`)).status, 200)
  })

  test('a data plane restarted while etcd is down serves from its cache file', async () => {
    const expected = (await servedBy('/x'))[1]
    await fleet.etcd.whileUnreachable(async () => {
      await fleet.nodes[1]?.restart(true)
      const status = await fleet.nodes[1]?.status()
      assert.equal(status?.source, 'cache')
      assert.equal((await servedBy('/x'))[1], expected)
    })
  })

  test('nodes follow a change published after a compaction', async () => {
    const rev = JSON.parse(await fleet.etcd.etcdctl(['endpoint', 'status', '-w', 'json']))[0].Status.header.revision
    await fleet.etcd.etcdctl(['compact', String(rev)])
    const put = await fleet.api(
      'PUT',
      '/config',
      JSON.stringify(config({ app: { path: '/', upstream: 'green' }, b: { path: '/b', upstream: 'blue' } })),
    )
    assert.equal(put.status, 200, JSON.stringify(put.body))
    await fleet.waitForGeneration(put.body.generation)
    assert.deepEqual(await servedBy('/b/1'), ['blue', 'blue', 'blue'])
  })

  test('the fleet view lists every node with its applied generation', async () => {
    const { body } = await fleet.api('GET', '/fleet')
    const gen = await generationNow()
    assert.equal(body.nodes.length, 3, JSON.stringify(body))
    for (const node of body.nodes) assert.equal(node.applied?.generation, gen, JSON.stringify(node))
  })
})

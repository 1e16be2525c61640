// The fleet view's figures end to end: two `fleetgate proxy --etcd` nodes heartbeat every 300 ms with
// figures read from their own metrics; GET /api/v1/fleet lists them per node and sums them.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { FLEETGATE_BIN, refusedPort, startBackend, startFleet, type TestBackend, type TestFleet, waitFor } from '@fleetgate/testkit'

let fleet: TestFleet
let blue: TestBackend

/** Sends `count` GETs; `expected` is a status, or 5 for any 5xx (a down backend answers 502, then 503 once its circuit opens). */
async function send(url: string, count: number, expected: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const res = await fetch(url)
    await res.arrayBuffer()
    assert.equal(expected < 100 ? Math.floor(res.status / 100) : res.status, expected, `${url}: ${res.status}`)
  }
}

/** `fleetgate ctl fleet` against the test fleet's control plane. */
async function ctlFleet(): Promise<string> {
  const { stdout } = await promisify(execFile)(FLEETGATE_BIN, ['ctl', '--server', fleet.adminUrl, 'fleet'], {
    env: { ...process.env, FLEETGATE_TOKEN: fleet.token },
    timeout: 30_000,
  })
  return stdout
}

async function fleetView() {
  const { status, body } = await fleet.api('GET', '/fleet')
  assert.equal(status, 200, JSON.stringify(body))
  return body
}

describe('fleet figures', { timeout: 90_000 }, () => {
  before(async () => {
    blue = await startBackend('blue')
    fleet = await startFleet({ nodes: 2, nodeArgs: ['--heartbeat-interval', '300ms'] })
    const config = {
      upstreams: { blue: { addrs: [blue.addr] }, dead: { addrs: [`127.0.0.1:${await refusedPort()}`] } },
      locations: { down: { path: '/down/', upstream: 'dead' }, app: { path: '/', upstream: 'blue' } },
      servers: { main: { addr: '127.0.0.1:0', locations: ['down', 'app'] } },
    }
    const put = await fleet.api('PUT', '/config', JSON.stringify(config))
    assert.equal(put.status, 200, JSON.stringify(put.body))
    await fleet.waitForGeneration(put.body.generation)
  })
  after(async () => {
    await fleet?.stop()
    await blue?.close()
  })

  test('each node reports the requests it answered, 5xx from a down backend, and the summary adds them up', async () => {
    const [one, two] = fleet.nodes as [(typeof fleet.nodes)[0], (typeof fleet.nodes)[0]]
    await send(`${one.url}/x`, 10, 200)
    await send(`${two.url}/x`, 4, 200)
    await send(`${two.url}/down/y`, 3, 502)
    // biome-ignore lint/suspicious/noExplicitAny: the parsed JSON answer
    let view: any
    await waitFor(
      'figures of both nodes in the fleet view',
      async () => {
        view = await fleetView()
        const [a, b] = view.nodes
        return a?.figures?.requests === 10 && b?.figures?.requests === 7
      },
      10_000,
      50,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${JSON.stringify(view, null, 2)}`)
    })
    const [a, b] = view.nodes
    assert.deepEqual([a.id, b.id], ['node1', 'node2'])
    assert.deepEqual(a.figures.responses, { '1xx': 0, '2xx': 10, '3xx': 0, '4xx': 0, '5xx': 0 })
    assert.deepEqual(b.figures.responses, { '1xx': 0, '2xx': 4, '3xx': 0, '4xx': 0, '5xx': 3 })
    assert.equal(a.figures.gatewayErrors, 0)
    assert.equal(b.figures.gatewayErrors, 3)
    assert.ok(a.figures.bytesOut > 0 && b.figures.bytesOut > 0)
    assert.equal(a.figures.activeRequests, 0)
    for (const n of view.nodes) {
      assert.ok(n.figures.rssBytes > 10_000_000, `rss of ${n.id}: ${n.figures.rssBytes}`)
      assert.ok(n.figures.uptimeSeconds >= 0)
    }
    const s = view.summary
    assert.deepEqual(s.nodes, { total: 2, current: 2, behind: 0, rejected: 0, stale: 0 })
    assert.equal(s.reporting, 2)
    assert.equal(s.requests, 17)
    assert.equal(s.responses5xx, 3)
    assert.equal(s.rssBytes, a.figures.rssBytes + b.figures.rssBytes)
    const ctl = await ctlFleet()
    assert.match(ctl, /STALE +REQ\/S +5XX +P99 MS +RSS MB\n/)
    assert.match(ctl, /\nnode2 .* no +[\d.]+ +3 +[\d.-]+ +\d+\.\d\n/)
    assert.match(
      ctl,
      /\n2 nodes \(2 current, 0 behind, 0 rejected, 0 stale\); [\d.]+ req\/s, 5xx [\d.%-]+, max p99 [\d.-]+ ms, RSS \d+\.\d MB\n$/,
    )
  })

  test('the summary shows the request rate, 5xx ratio and p99 of the last heartbeat window under traffic', async () => {
    const [one, two] = fleet.nodes as [(typeof fleet.nodes)[0], (typeof fleet.nodes)[0]]
    let sending = true
    const traffic = (async () => {
      while (sending) {
        await send(`${one.url}/x`, 3, 200)
        await send(`${two.url}/down/z`, 1, 5)
      }
    })()
    // biome-ignore lint/suspicious/noExplicitAny: the parsed JSON answer
    let view: any
    try {
      await waitFor(
        'a window with only this traffic on both nodes (node2 answers 5xx only)',
        async () => {
          view = await fleetView()
          const [a, b] = view.nodes
          const r = b.figures.recent
          return a.figures.recent.requests > 0 && r.requests > 0 && r.responses5xx === r.requests
        },
        10_000,
        50,
      )
    } finally {
      sending = false
      await traffic
    }
    const [a, b] = view.nodes
    const s = view.summary
    assert.ok(a.figures.recent.seconds > 0 && a.figures.recent.seconds < 5, JSON.stringify(a.figures.recent))
    assert.equal(s.requestsPerSecond, Math.round((a.figures.recent.requestsPerSecond + b.figures.recent.requestsPerSecond) * 1000) / 1000)
    assert.ok(s.requestsPerSecond > 0)
    const ratio = b.figures.recent.requests / (a.figures.recent.requests + b.figures.recent.requests)
    assert.equal(s.errorRatio5xx, Math.round(ratio * 10_000) / 10_000)
    assert.ok(s.errorRatio5xx > 0 && s.errorRatio5xx < 1)
    assert.ok(a.figures.recent.p50Ms > 0 && a.figures.recent.p99Ms >= a.figures.recent.p50Ms, JSON.stringify(a.figures.recent))
    assert.equal(s.maxP99Ms, Math.max(a.figures.recent.p99Ms, b.figures.recent.p99Ms))
  })
})

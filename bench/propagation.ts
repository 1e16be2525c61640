// Fleet propagation benchmark: etcd + control plane + three data planes (real processes on
// loopback). Measures, for 50 small changes, the time from the admin API's answer to the
// moment all three nodes serve the change, then the same for a 10,000-location config while
// a client measures the longest request stall during the swap.
// Run from the repo root: node_modules/.bin/node bench/propagation.ts  (needs etcd-server)
import { setTimeout as sleep } from 'node:timers/promises'
import { startBackend, startFleet, type TestFleet } from '@fleetgate/testkit'

const CHANGES = Number(process.env.BENCH_CHANGES ?? 50)
const BIG = Number(process.env.BENCH_LOCATIONS ?? 10_000)
const NODES = Number(process.env.BENCH_NODES ?? 3)

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
}

/** Resolves with ms from `since` until every node answers `path` with header x-version = `version`. */
async function untilServed(fleet: TestFleet, path: string, version: string, since: number): Promise<number> {
  const pending = new Set(fleet.nodes)
  while (pending.size > 0) {
    for (const node of [...pending]) {
      const res = await fetch(`${node.url}${path}`)
      await res.arrayBuffer()
      if (res.headers.get('x-version') === version) pending.delete(node)
    }
    if (performance.now() - since > 30_000) throw new Error(`version ${version} not served after 30 s`)
  }
  return performance.now() - since
}

function baseConfig(backend: string, version: string, extraLocations = 0) {
  const locations: Record<string, unknown> = {
    app: { path: '/app', upstream: 'app', response_headers_set: [`x-version:${version}`] },
  }
  for (let i = 0; i < extraLocations; i++) locations[`l${i}`] = { path: `/svc/${i}/`, upstream: 'app' }
  return {
    basic: { log_level: 'warn' },
    upstreams: { app: { addrs: [backend] } },
    locations,
    servers: { main: { addr: '127.0.0.1:0', locations: Object.keys(locations) } },
  }
}

async function smallChanges(fleet: TestFleet): Promise<number[]> {
  const times: number[] = []
  for (let i = 0; i < CHANGES; i++) {
    const version = `v${i}`
    const body = JSON.stringify({ path: '/app', upstream: 'app', response_headers_set: [`x-version:${version}`] })
    const res = await fleet.api('PUT', '/locations/app', body)
    const answered = performance.now()
    if (res.status !== 200) throw new Error(`PUT failed: ${res.status} ${JSON.stringify(res.body)}`)
    times.push(await untilServed(fleet, '/app', version, answered))
    await sleep(20)
  }
  return times.sort((a, b) => a - b)
}

/** Runs a request loop against node 1 while `work` runs; returns the longest request time seen. */
async function maxStallDuring(fleet: TestFleet, work: () => Promise<number>): Promise<{ ms: number; stall: number; requests: number }> {
  let running = true
  let stall = 0
  let requests = 0
  const loop = (async () => {
    while (running) {
      const t = performance.now()
      const res = await fetch(`${fleet.nodes[0]?.url}/app`)
      await res.arrayBuffer()
      stall = Math.max(stall, performance.now() - t)
      requests++
    }
  })()
  const ms = await work()
  running = false
  await loop
  return { ms, stall, requests }
}

/** Each node's largest event-loop delay (ms) since its previous scrape (prom-client resets it per scrape). */
async function eventLoopMaxMs(fleet: TestFleet): Promise<number[]> {
  return await Promise.all(
    fleet.nodes.map(async (node) => {
      const text = await (await fetch(`${node.statusUrl}/metrics`)).text()
      const line = text.split('\n').find((l) => l.startsWith('nodejs_eventloop_lag_max_seconds '))
      return Number(line?.split(' ')[1] ?? Number.NaN) * 1000
    }),
  )
}

async function main() {
  const backend = await startBackend('app')
  const fleet = await startFleet({ nodes: NODES })
  try {
    const put = await fleet.api('PUT', '/config', JSON.stringify(baseConfig(backend.addr, 'start')))
    if (put.status !== 200) throw new Error(`initial PUT failed: ${JSON.stringify(put.body)}`)
    await fleet.waitForGeneration(put.body.generation)
    const small = await smallChanges(fleet)
    await eventLoopMaxMs(fleet)
    const big = await maxStallDuring(fleet, async () => {
      const body = JSON.stringify(baseConfig(backend.addr, 'big', BIG))
      const started = performance.now()
      const res = await fleet.api('PUT', '/config', body)
      const answered = performance.now()
      if (res.status !== 200) throw new Error(`big PUT failed: ${res.status} ${JSON.stringify(res.body).slice(0, 500)}`)
      const served = await untilServed(fleet, '/app', 'big', answered)
      process.stderr.write(`[propagation] ${BIG} locations: API answered in ${(answered - started).toFixed(0)} ms\n`)
      return served
    })
    const loopMax = await eventLoopMaxMs(fleet)
    const rows = [
      '| change | samples | p50 (ms) | p99 (ms) | max (ms) | longest request during the swap (ms) | longest event-loop delay per node (ms) |',
      '|---|---:|---:|---:|---:|---:|---:|',
      `| one location (${NODES} nodes) | ${small.length} | ${percentile(small, 50).toFixed(1)} | ${percentile(small, 99).toFixed(1)} | ${(small.at(-1) ?? 0).toFixed(1)} | | |`,
      `| ${BIG.toLocaleString('en')} locations (${NODES} nodes) | 1 | ${big.ms.toFixed(0)} | | | ${big.stall.toFixed(1)} (${big.requests} requests) | ${loopMax.map((ms) => ms.toFixed(0)).join(' / ')} |`,
    ]
    process.stdout.write(`${rows.join('\n')}\n`)
  } finally {
    await fleet.stop()
    await backend.close()
  }
}

await main()

// Bodies stream through the gateway with bounded memory: 1 GiB up and 1 GiB down (generated
// on the fly, never held), and a slow reader whose backpressure reaches the backend. The
// gateway's resident memory is read from /proc/PID/status while the bytes flow.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import type { ServerResponse } from 'node:http'
import { Readable } from 'node:stream'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort, type GatewayProcess, startBackend, startGateway, type TestBackend } from '@fleetgate/testkit'
import { Agent, request } from 'undici'

const GiB = 1024 ** 3
const MiB = 1024 ** 2
/** The brief's absolute bound on the gateway's RSS while bodies stream. */
/**
 * Growth over the idle RSS any transfer may cause: GC slack from buffers churned at hundreds
 * of MiB/s, far below the 1 GiB a gateway holding a whole body would need.
 */
const GROWTH_LIMIT = 128 * MiB
/** Idle RSS of the gateway, measured before the first transfer. */
let idleRss = 0
const CHUNK = Buffer.alloc(MiB, 'f')
let sink: TestBackend
let source: TestBackend
let gateway: GatewayProcess
let port: number
/** Bytes the source backend has handed to its socket for the current download. */
let sourceWritten = 0
const agent = new Agent({ bodyTimeout: 60_000, headersTimeout: 60_000 })

/** Writes `total` bytes to `res` honouring backpressure; stops early when the client goes away. */
async function generate(res: ServerResponse, total: number): Promise<void> {
  sourceWritten = 0
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total })
  const closed = once(res, 'close')
  while (sourceWritten < total && !res.destroyed) {
    const ok = res.write(CHUNK)
    sourceWritten += CHUNK.length
    if (!ok) await Promise.race([once(res, 'drain'), closed])
  }
  res.end()
}

before(async () => {
  // startBackend buffers bodies, so the sink counts the upload itself on a raw handler.
  sink = await startBackend('sink')
  sink.server.removeAllListeners('request')
  sink.server.on('request', (req, res) => {
    let bytes = 0
    req.on('data', (c: Buffer) => {
      bytes += c.length
    })
    req.on('end', () => res.end(String(bytes)))
  })
  source = await startBackend('source')
  source.server.removeAllListeners('request')
  source.server.on('request', (req, res) => void generate(res, Number(new URL(req.url ?? '/', 'http://x').searchParams.get('bytes'))))
  port = await freePort()
  gateway = await startGateway(`
[upstreams.sink]
addrs = ["${sink.addr}"]
read_timeout = "60s"

[upstreams.source]
addrs = ["${source.addr}"]
read_timeout = "60s"

[locations.upload]
upstream = "sink"
path = "/upload"

[locations.download]
upstream = "source"
path = "/download"

[servers.main]
addr = "127.0.0.1:${port}"
locations = ["upload", "download"]
`)
  assert.match(readFileSync(`/proc/${gateway.process.pid}/cmdline`, 'latin1'), /main\.ts\0proxy/, 'the PID is not the gateway node process')
  idleRss = rssOf(gateway.process.pid)
})

after(async () => {
  await agent.close()
  await gateway?.stop()
  await sink?.close()
  await source?.close()
})

/** Resident memory of process `pid` in bytes, from /proc/PID/status. */
function rssOf(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1]) * 1024
}

/** Samples the gateway's VmRSS every 50 ms until stopped; stop() returns the peak in bytes. */
function watchRss(pid: number): { stop(): number } {
  let peak = 0
  const sample = () => {
    peak = Math.max(peak, rssOf(pid))
  }
  sample()
  const timer = setInterval(sample, 50)
  return {
    stop() {
      clearInterval(timer)
      sample()
      return peak
    },
  }
}

function* chunks(total: number): Generator<Buffer> {
  for (let sent = 0; sent < total; sent += CHUNK.length) yield CHUNK
}

const mb = (n: number) => `${(n / MiB).toFixed(1)} MiB`

/** Checks a transfer grew the gateway by less than GROWTH_LIMIT over its idle RSS. */
function assertBounded(name: string, peak: number): void {
  assert.ok(name)
  assert.ok(peak - idleRss < GROWTH_LIMIT, `gateway RSS grew by ${mb(peak - idleRss)} (idle ${mb(idleRss)}, peak ${mb(peak)})`)
}

test('a 1 GiB upload streams to the backend without the gateway holding it in memory', async (t) => {
  const rss = watchRss(gateway.process.pid)
  const started = performance.now()
  const res = await request(`http://127.0.0.1:${port}/upload`, {
    dispatcher: agent,
    method: 'POST',
    headers: { 'content-length': String(GiB), 'content-type': 'application/octet-stream' },
    body: Readable.from(chunks(GiB), { objectMode: false }),
  })
  const body = await res.body.text()
  const seconds = (performance.now() - started) / 1000
  const peak = rss.stop()
  t.diagnostic(
    `upload: ${seconds.toFixed(1)} s, ${(GiB / MiB / seconds).toFixed(0)} MiB/s, gateway peak RSS ${mb(peak)} (idle ${mb(idleRss)})`,
  )
  assert.equal(res.statusCode, 200, body)
  assert.equal(body, String(GiB))
  assertBounded('upload', peak)
})

test('a 1 GiB download streams to the client without the gateway holding it in memory', async (t) => {
  const rss = watchRss(gateway.process.pid)
  const started = performance.now()
  const res = await request(`http://127.0.0.1:${port}/download?bytes=${GiB}`, { dispatcher: agent })
  let received = 0
  for await (const chunk of res.body) received += (chunk as Buffer).length
  const seconds = (performance.now() - started) / 1000
  const peak = rss.stop()
  t.diagnostic(
    `download: ${seconds.toFixed(1)} s, ${(GiB / MiB / seconds).toFixed(0)} MiB/s, gateway peak RSS ${mb(peak)} (idle ${mb(idleRss)})`,
  )
  assert.equal(res.statusCode, 200)
  assert.equal(received, GiB)
  assertBounded('download', peak)
})

test('a slow reader holds the backend back instead of filling the gateway memory', async (t) => {
  const rss = watchRss(gateway.process.pid)
  const res = await request(`http://127.0.0.1:${port}/download?bytes=${GiB}`, { dispatcher: agent })
  assert.equal(res.statusCode, 200)
  let read = 0
  const until = performance.now() + 2500
  // About 3 MiB/s: a 64 KiB chunk every 20 ms, while the backend could send hundreds of MiB/s.
  for await (const chunk of res.body) {
    read += (chunk as Buffer).length
    if (performance.now() > until) break
    await sleep(20)
  }
  const ahead = sourceWritten - read
  const peak = rss.stop()
  t.diagnostic(`slow reader: read ${mb(read)}, backend wrote ${mb(sourceWritten)}, gateway peak RSS ${mb(peak)} (idle ${mb(idleRss)})`)
  // Without backpressure the backend would have pushed most of the 1 GiB by now.
  assert.ok(ahead < 64 * MiB, `the backend is ${mb(ahead)} ahead of the reader`)
  assertBounded('slow reader', peak)
})

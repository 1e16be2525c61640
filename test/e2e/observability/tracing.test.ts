// OpenTelemetry tracing: a real gateway exports spans over OTLP/HTTP (JSON) to a receiver of our own.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  FLEETGATE_BIN,
  freePort,
  type GatewayProcess,
  refusedPort,
  startBackend,
  startGateway,
  type TestBackend,
  waitFor,
} from '@fleetgate/testkit'

/** One span as the receiver decoded it from the OTLP JSON encoding. */
interface ReceivedSpan {
  traceId: string
  spanId: string
  parentSpanId: string
  name: string
  /** OTLP SpanKind: 2 SERVER, 3 CLIENT. */
  kind: number
  attributes: Record<string, string | number | boolean>
  status: number
  service: string
  /** The instrumentation scope's name. */
  scope: string
  /** The span's W3C tracestate, '' when none. */
  traceState: string
  /** OTLP span flags: the W3C trace flags in the low byte. */
  flags: number
  /** Unix nanoseconds, as the OTLP JSON encoding writes them. */
  start: bigint
  end: bigint
}

const SERVER = 2
const CLIENT = 3

interface OtlpValue {
  stringValue?: string
  intValue?: string | number
  boolValue?: boolean
  doubleValue?: number
}
interface OtlpAttr {
  key: string
  value: OtlpValue
}

function attrs(list: OtlpAttr[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {}
  for (const { key, value } of list ?? []) {
    out[key] = value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : (value.boolValue ?? value.doubleValue ?? ''))
  }
  return out
}

/** A minimal OTLP/HTTP trace receiver: POST /v1/traces with a JSON body. */
async function startReceiver(): Promise<{ server: Server; url: string; spans: ReceivedSpan[]; posts: string[] }> {
  const spans: ReceivedSpan[] = []
  const posts: string[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      posts.push(`${req.method} ${req.url} ${req.headers['content-type']}`)
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end()
        return
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
      for (const rs of body.resourceSpans ?? []) {
        const service = String(attrs(rs.resource?.attributes)['service.name'])
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            spans.push({
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId ?? '',
              name: s.name,
              kind: s.kind,
              attributes: attrs(s.attributes),
              status: s.status?.code ?? 0,
              service,
              scope: ss.scope?.name ?? '',
              traceState: s.traceState ?? '',
              flags: s.flags ?? 0,
              start: BigInt(s.startTimeUnixNano),
              end: BigInt(s.endTimeUnixNano),
            })
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, spans, posts }
}

let receiver: Awaited<ReturnType<typeof startReceiver>>
let backend: TestBackend
/** Closed by the stale-cache test: its cached answer is then served stale. */
let fading: TestBackend
let gateway: GatewayProcess
let base: string
let deadPort: number
let port: number

const config = (tracing: string, on = port) => `
[upstreams.api]
addrs = ["${backend.addr}"]

[upstreams.flaky]
addrs = ["127.0.0.1:${deadPort}", "${backend.addr}"]
circuit_break_failures = 0

[upstreams.fading]
addrs = ["${fading.addr}"]

[plugins.sie]
type = "cache"
stale_if_error = "60s"

[locations.api]
upstream = "api"
path = "/api"

[locations.flaky]
upstream = "flaky"
path = "/flaky"

[locations.fading]
upstream = "fading"
path = "/fading"
plugins = ["sie"]

[servers.main]
addr = "127.0.0.1:${on}"
locations = ["api", "flaky", "fading"]
${tracing}
`

/** A second gateway, on a port of its own, exporting every trace to `endpoint`. */
async function startOther(endpoint: string): Promise<{ other: GatewayProcess; otherBase: string }> {
  const otherPort = await freePort()
  const other = await startGateway(config(`[tracing]\nendpoint = "${endpoint}"\nsampling_ratio = 1`, otherPort))
  return { other, otherBase: `http://127.0.0.1:${otherPort}` }
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex')
const spansOf = (traceId: string) => receiver.spans.filter((s) => s.traceId === traceId)

/** Waits until the receiver holds `count` spans of the trace. */
async function waitForSpans(traceId: string, count: number): Promise<ReceivedSpan[]> {
  await waitFor(`${count} spans of trace ${traceId}`, () => spansOf(traceId).length >= count, 10_000)
  return spansOf(traceId)
}

/** The trace id and span id of the traceparent the backend received last. */
function backendParent(): { traceId: string; spanId: string; flags: string; tracestate: string | undefined } {
  const header = backend.last?.headers.traceparent as string
  assert.match(header, /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/)
  const [, traceId, spanId, flags] = header.split('-') as [string, string, string, string]
  return { traceId, spanId, flags, tracestate: backend.last?.headers.tracestate as string | undefined }
}

before(async () => {
  receiver = await startReceiver()
  backend = await startBackend('api')
  fading = await startBackend('fading', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=1' }).end('cached once')
  })
  deadPort = await refusedPort()
  port = await freePort()
  base = `http://127.0.0.1:${port}`
  gateway = await startGateway(
    config(`[tracing]\nendpoint = "${receiver.url}"\nservice_name = "edge-test"\nsampling_ratio = 1\n\n[basic]\nlog_level = "warn"`),
  )
})

after(async () => {
  await gateway?.stop()
  await backend?.close()
  await fading?.close()
  receiver?.server.close()
})

describe('tracing', () => {
  test('exports a server span whose parent is the traceparent the client sent', async () => {
    const traceId = hex(16)
    const parent = hex(8)
    const res = await fetch(`${base}/api/items?q=1`, {
      headers: { traceparent: `00-${traceId}-${parent}-01`, tracestate: 'vendor=abc', 'user-agent': 'trace-test' },
    })
    assert.equal(res.status, 200)
    await res.text()
    const spans = await waitForSpans(traceId, 2)
    const server = spans.find((s) => s.kind === SERVER) as ReceivedSpan
    assert.ok(server, 'a SERVER span')
    assert.equal(server.name, 'GET api')
    assert.equal(server.parentSpanId, parent)
    assert.equal(server.service, 'edge-test')
    assert.equal(server.scope, 'fleetgate')
    assert.equal(server.traceState, 'vendor=abc', "the client's tracestate stays on the span")
    assert.equal(server.flags & 0xff, 1, 'sampled')
    assert.ok(server.end > server.start, 'the span has a length')
    assert.deepEqual(
      {
        method: server.attributes['http.request.method'],
        path: server.attributes['url.path'],
        scheme: server.attributes['url.scheme'],
        address: server.attributes['server.address'],
        port: server.attributes['server.port'],
        status: server.attributes['http.response.status_code'],
        proto: server.attributes['network.protocol.version'],
        client: server.attributes['client.address'],
        location: server.attributes['fleetgate.location'],
        upstream: server.attributes['fleetgate.upstream'],
        backend: server.attributes['fleetgate.backend'],
        ua: server.attributes['user_agent.original'],
      },
      {
        method: 'GET',
        path: '/api/items',
        scheme: 'http',
        address: '127.0.0.1',
        port,
        status: 200,
        proto: '1.1',
        client: '127.0.0.1',
        location: 'api',
        upstream: 'api',
        backend: backend.addr,
        ua: 'trace-test',
      },
    )
    assert.equal(server.attributes['error.type'], undefined)
  })

  test('exports a client span per attempt, child of the server span, and sends its context upstream', async () => {
    const traceId = hex(16)
    await (await fetch(`${base}/api/x`, { headers: { traceparent: `00-${traceId}-${hex(8)}-01`, tracestate: 'vendor=abc' } })).text()
    const seen = backendParent()
    const spans = await waitForSpans(traceId, 2)
    const server = spans.find((s) => s.kind === SERVER) as ReceivedSpan
    const client = spans.find((s) => s.kind === CLIENT) as ReceivedSpan
    assert.ok(client, 'a CLIENT span')
    assert.equal(client.parentSpanId, server.spanId)
    assert.equal(client.name, 'GET api')
    assert.deepEqual(seen, { traceId, spanId: client.spanId, flags: '01', tracestate: 'vendor=abc' })
    assert.equal(client.attributes['server.address'], '127.0.0.1')
    assert.equal(client.attributes['server.port'], backend.port)
    assert.equal(client.attributes['http.response.status_code'], 200)
    assert.equal(client.attributes['fleetgate.backend'], backend.addr)
    // Times are taken on the request path and the spans made later, on the export thread: the
    // upstream attempt lies within the request, and the request ended moments ago.
    assert.ok(server.start <= client.start && client.start <= client.end && client.end <= server.end, 'client span within server span')
    const ageMs = Number(BigInt(Date.now()) * 1_000_000n - server.end) / 1e6
    assert.ok(ageMs >= 0 && ageMs < 10_000, `the server span ended ${ageMs} ms ago`)
  })

  test('starts a new trace when the client sent none', async () => {
    await (await fetch(`${base}/api/root`)).text()
    const { traceId, flags } = backendParent()
    assert.equal(flags, '01')
    const spans = await waitForSpans(traceId, 2)
    assert.equal((spans.find((s) => s.kind === SERVER) as ReceivedSpan).parentSpanId, '')
  })

  test('a retry gives two client spans under one server span', async () => {
    // Round robin over [dead, live]: of two requests, one tries the dead backend first.
    const traces = [hex(16), hex(16)]
    for (const traceId of traces) {
      const res = await fetch(`${base}/flaky/r`, { headers: { traceparent: `00-${traceId}-${hex(8)}-01` } })
      assert.equal(res.status, 200)
      await res.text()
    }
    await waitFor('both traces', () => traces.every((t) => spansOf(t).some((s) => s.kind === SERVER)), 10_000)
    const retried = traces.map(spansOf).find((spans) => spans.filter((s) => s.kind === CLIENT).length === 2)
    assert.ok(retried, 'one request was retried')
    const server = retried.find((s) => s.kind === SERVER) as ReceivedSpan
    const [first, second] = retried
      .filter((s) => s.kind === CLIENT)
      .sort((a, b) => Number(a.attributes['http.request.resend_count'] ?? 0) - Number(b.attributes['http.request.resend_count'] ?? 0)) as [
      ReceivedSpan,
      ReceivedSpan,
    ]
    assert.equal(first.parentSpanId, server.spanId)
    assert.equal(second.parentSpanId, server.spanId)
    assert.equal(first.attributes['error.type'], 'UPSTREAM_CONNECT')
    assert.equal(first.attributes['fleetgate.backend'], `127.0.0.1:${deadPort}`)
    assert.equal(first.status, 2, 'the failed attempt has status ERROR')
    assert.equal(second.attributes['http.request.resend_count'], 1)
    assert.equal(second.attributes['http.response.status_code'], 200)
    assert.equal(server.attributes['http.response.status_code'], 200)
  })

  test('a gateway error sets error.type on the server span', async () => {
    const traceId = hex(16)
    const res = await fetch(`${base}/nowhere`, { headers: { traceparent: `00-${traceId}-${hex(8)}-01` } })
    assert.equal(res.status, 404)
    await res.text()
    const [server] = await waitForSpans(traceId, 1)
    assert.equal(server?.name, 'GET')
    assert.equal(server?.attributes['error.type'], 'NO_ROUTE')
    assert.equal(server?.attributes['http.response.status_code'], 404)
  })

  test('a stale cached answer served while the upstream is down is no error of the server span', async () => {
    assert.equal((await fetch(`${base}/fading/page`)).status, 200)
    await fading.close()
    await new Promise((r) => setTimeout(r, 1100)) // max-age=1: the entry is stale now
    const traceId = hex(16)
    const res = await fetch(`${base}/fading/page`, { headers: { traceparent: `00-${traceId}-${hex(8)}-01` } })
    assert.equal(await res.text(), 'cached once')
    assert.equal(res.headers.get('x-cache'), 'STALE')
    const spans = await waitForSpans(traceId, 2)
    const server = spans.find((s) => s.kind === SERVER) as ReceivedSpan
    const client = spans.find((s) => s.kind === CLIENT) as ReceivedSpan
    assert.equal(server.attributes['http.response.status_code'], 200)
    assert.equal(server.attributes['error.type'], undefined, 'the client got its answer')
    assert.equal(server.status, 0)
    assert.equal(client.attributes['error.type'], 'UPSTREAM_CONNECT', 'the failed attempt keeps its error')
    assert.equal(client.status, 2)
  })

  test('sampling_ratio 0 exports no new trace but honours a sampled parent', async () => {
    await gateway.writeConfig(config(`[tracing]\nendpoint = "${receiver.url}"\nsampling_ratio = 0\n\n[basic]\nlog_level = "warn"`))
    await gateway.waitForGeneration(2)
    await (await fetch(`${base}/api/unsampled`)).text()
    const unsampled = backendParent()
    assert.equal(unsampled.flags, '00', 'the upstream is told the trace is not sampled')
    const sampled = hex(16)
    await (await fetch(`${base}/api/sampled`, { headers: { traceparent: `00-${sampled}-${hex(8)}-01` } })).text()
    const spans = await waitForSpans(sampled, 2)
    assert.equal(spans.find((s) => s.kind === SERVER)?.service, 'fleetgate', 'the reload re-created the provider')
    assert.deepEqual(spansOf(unsampled.traceId), [])
    // A parent that is not sampled is honoured as well: nothing is recorded for it.
    const declined = `00-${hex(16)}-${hex(8)}-00`
    await (await fetch(`${base}/api/declined`, { headers: { traceparent: declined } })).text()
    assert.equal(backend.last?.headers.traceparent, declined, 'an unsampled traceparent goes upstream unchanged')
    // A traceparent that is not valid starts a new trace, drawn by the ratio like any other.
    await (await fetch(`${base}/api/invalid`, { headers: { traceparent: '00-zz-01', tracestate: 'vendor=abc' } })).text()
    const fresh = backendParent()
    assert.equal(fresh.flags, '00')
    assert.equal(fresh.tracestate, undefined, 'a tracestate without a valid traceparent is dropped')
    await (await fetch(`${base}/api/again`)).text()
    assert.notEqual(backendParent().traceId, fresh.traceId, 'each new trace has its own id')
    // A retry (round robin: one of two requests meets the refusing backend first) sends the
    // same single traceparent again.
    for (let i = 0; i < 2; i++) {
      assert.equal((await fetch(`${base}/flaky/unsampled`)).status, 200)
      assert.equal(backendParent().flags, '00', 'one traceparent, not one per attempt')
    }
  })

  test('sampling_ratio draws that share of new traces, once', async () => {
    await gateway.writeConfig(config(`[tracing]\nendpoint = "${receiver.url}"\nsampling_ratio = 0.5\n\n[basic]\nlog_level = "warn"`))
    await gateway.waitForGeneration(3)
    const REQUESTS = 200
    const flags: string[] = []
    for (let i = 0; i < REQUESTS; i++) {
      await (await fetch(`${base}/api/ratio`)).text()
      flags.push(backendParent().flags)
    }
    const sampled = flags.filter((f) => f === '01').length
    // Binomial(200, 0.5): mean 100, standard deviation 7; 60..140 is more than five of them. A
    // ratio applied twice (0.25) or not at all (0 or 1) falls outside.
    assert.ok(sampled >= 60 && sampled <= 140, `${sampled} of ${REQUESTS} new traces sampled at ratio 0.5`)
  })

  test('with [tracing] removed, nothing is injected or exported', async () => {
    await gateway.writeConfig(config('[basic]\nlog_level = "warn"'))
    await gateway.waitForGeneration(4)
    await (await fetch(`${base}/api/off`)).text()
    assert.equal(backend.last?.headers.traceparent, undefined)
    const traceId = hex(16)
    await (await fetch(`${base}/api/off`, { headers: { traceparent: `00-${traceId}-${hex(8)}-01` } })).text()
    assert.equal(backendParent().traceId, traceId, "the client's traceparent passes through untouched")
    await new Promise((r) => setTimeout(r, 1500))
    assert.deepEqual(spansOf(traceId), [])
  })

  test('shutdown flushes the spans still buffered', async () => {
    const { other, otherBase } = await startOther(receiver.url)
    const traceId = hex(16)
    await (await fetch(`${otherBase}/api/last`, { headers: { traceparent: `00-${traceId}-${hex(8)}-01` } })).text()
    // Stopped at once, well before the batch processor's one-second export.
    assert.equal(await other.stop(), 0)
    assert.equal(spansOf(traceId).length, 2)
  })

  test('a collector that refuses the spans is reported in the log, and requests go on', async () => {
    const refusing = createServer((req, res) => {
      req.resume()
      req.on('end', () => res.writeHead(400).end())
    })
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', () => resolve()))
    const { other, otherBase } = await startOther(`http://127.0.0.1:${(refusing.address() as { port: number }).port}`)
    try {
      for (let i = 0; i < 3; i++) assert.equal((await fetch(`${otherBase}/api/refused`)).status, 200)
      await waitFor('a tracing warning in the log', () => /"msg":"tracing: /.test(other.process.output()), 10_000)
      assert.equal((await fetch(`${otherBase}/api/after`)).status, 200)
      // Two more refused exports: the same warning is not logged again within the minute.
      for (let round = 0; round < 2; round++) {
        assert.equal((await fetch(`${otherBase}/api/refused-again`)).status, 200)
        await sleep(1500)
      }
      const warnings = other.process.output().match(/"msg":"tracing: [^"]*/g) ?? []
      assert.equal(new Set(warnings).size, warnings.length, `a warning repeated:\n${warnings.join('\n')}`)
    } finally {
      await other.stop()
      refusing.close()
    }
  })

  test('an endpoint that is not an http(s) URL is a config error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fleetgate-tracing-'))
    const file = join(dir, 'bad.toml')
    await writeFile(file, '[tracing]\nendpoint = "otel-collector:4318"\n')
    const run = spawnSync(FLEETGATE_BIN, ['validate', file], { encoding: 'utf8' })
    await rm(dir, { recursive: true, force: true })
    assert.equal(run.status, 1)
    assert.match(run.stdout + run.stderr, /tracing\.endpoint/)
  })

  test('exports over OTLP/HTTP JSON to /v1/traces', () => {
    assert.ok(receiver.posts.length > 0)
    for (const post of receiver.posts) assert.equal(post, 'POST /v1/traces application/json')
  })
})

// The export thread's CPU a span, fed the way the gateway feeds it (see README.md):
//   taskset -c 0 node_modules/.bin/node bench/experiments/export-thread.ts [spans/s] [seconds]
// Spans are appended to a SpanHandoff as a sampled request appends them (a server and a client
// span each), the thread exports them to a local OTLP sink, and the thread's own CPU time
// (/proc schedstat, nanoseconds) is divided by the spans it took. Unlike requests/s between two
// gateways, this figure holds still from run to run on a busy machine.
import { readdirSync, readFileSync } from 'node:fs'
import { SpanHandoff } from '../../packages/data-plane/src/observability/tracing/span-handoff.ts'
import { CLIENT_KIND, SERVER_KIND } from '../../packages/data-plane/src/observability/tracing/span-record.ts'
import { startOtlpSink } from '../otlp-sink.ts'

/** 260 spans a second: 1 % of the benchmark's 13k requests/s, two spans each. */
const spansPerSecond = Number(process.argv[2] ?? 260)
const seconds = Number(process.argv[3] ?? 20)
const WARM_UP_MS = 4000
const TICK_MS = 10

const warn = (...args: unknown[]) => process.stderr.write(`${args.map((a) => JSON.stringify(a)).join(' ')}\n`)
const logger = { warn, error: warn } as unknown as ConstructorParameters<typeof SpanHandoff>[1]
const sink = await startOtlpSink()
const handoff = new SpanHandoff({ url: `${sink.url}/v1/traces`, serviceName: 'fleetgate' }, logger)

let requests = 0
const hex = (n: number, digits: number) => n.toString(16).padStart(digits, '0')
function sampledRequest(): void {
  requests++
  const traceId = hex(requests, 32)
  const serverSpan = hex(requests * 2, 16)
  const t = Date.now()
  handoff.finished({
    writeSpans(batch) {
      batch.push(CLIENT_KIND, traceId, hex(requests * 2 + 1, 16), serverSpan, false, '', 'GET api', t, t + 1, false)
      batch.push('GET', '127.0.0.1', 8001, 'api', '127.0.0.1:8001', undefined, 200, undefined)
      batch.push(SERVER_KIND, traceId, serverSpan, '', false, '', 'GET bench', t, t + 2, false)
      batch.push(
        'GET',
        '/bench',
        'http',
        '127.0.0.1',
        8080,
        '1.1',
        '127.0.0.1',
        'wrk/4.2.0',
        200,
        'bench',
        'api',
        '127.0.0.1:8001',
        undefined,
      )
      return 2
    },
  })
}

/** CPU nanoseconds of each thread of this process other than the main one, by name and id. */
function threadCpu(): Map<string, number> {
  const cpu = new Map<string, number>()
  for (const tid of readdirSync('/proc/self/task')) {
    if (tid === String(process.pid)) continue
    const name = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim()
    cpu.set(`${name} ${tid}`, Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]))
  }
  return cpu
}

let owed = 0
const feed = setInterval(() => {
  owed += (spansPerSecond / 2) * (TICK_MS / 1000)
  for (; owed >= 1; owed--) sampledRequest()
}, TICK_MS)
await new Promise((resolve) => setTimeout(resolve, WARM_UP_MS))
const before = threadCpu()
const from = requests
await new Promise((resolve) => setTimeout(resolve, seconds * 1000))
const after = threadCpu()
const spans = (requests - from) * 2
clearInterval(feed)
process.stdout.write(`${spans} spans in ${seconds} s (${sink.exports} exports so far); CPU a span by thread:\n`)
for (const [thread, ns] of after) {
  const used = ns - (before.get(thread) ?? 0)
  // The main thread (the feed and the sink) is left out; V8's helper threads serve both isolates.
  if (used > 1e6) process.stdout.write(`${(used / 1000 / spans).toFixed(2).padStart(8)} µs  ${thread}\n`)
}
await handoff.shutdown()

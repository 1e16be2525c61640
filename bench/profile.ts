// Profiles one fleetgate variant under the benchmark's load and prints where its CPU goes:
//   node_modules/.bin/node bench/profile.ts [plain|plugins|logs|tracing] [seconds]   (PLUGINS=rid,cors: part of the chain)
// The gateway runs with --cpu-prof on the proxy core, wrk and an nginx backend on the other;
// the .cpuprofile is written to bench/results/ and summarised by self time, top functions first.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from '@fleetgate/testkit'
import { benchJwt, GATEWAY_PLUGINS_TEMPLATE, renderGatewayConfig } from './gateway-config.ts'
import { startBackend } from './nginx.ts'
import { startOtlpSink } from './otlp-sink.ts'
import { findTools, planCpus } from './preflight.ts'
import { startProcess, stopAll } from './processes.ts'
import { waitUntilServing } from './readiness.ts'
import { parseStatCpuTicks } from './rss.ts'
import { MEASURED_PATH } from './settings.ts'
import { TRACING_RATIO } from './targets.ts'
import { parseWrkOutput, runWrk } from './wrk.ts'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

const variant = process.argv[2] ?? 'plain'
const seconds = Number(process.argv[3] ?? 10)
if (!['plain', 'plugins', 'logs', 'tracing'].includes(variant))
  throw new Error(`unknown variant ${variant}: plain, plugins, logs or tracing`)

const repoRoot = new URL('..', import.meta.url).pathname
const tools = findTools()
const cpus = planCpus()
const dir = mkdtempSync(join(tmpdir(), 'fleetgate-profile-'))
const outDir = join(repoRoot, 'bench/results')
mkdirSync(outDir, { recursive: true })

try {
  const backend = await startBackend(tools, join(dir, 'nginx'), cpus.load)
  const port = await freePort()
  const values = { LISTEN: `127.0.0.1:${port}`, BACKEND: `127.0.0.1:${backend.port}` }
  let text = variant === 'plugins' ? renderGatewayConfig(values, GATEWAY_PLUGINS_TEMPLATE) : renderGatewayConfig(values)
  // PLUGINS=rid,cors keeps only those plugins of the chain on the measured location.
  const only = process.env.PLUGINS
  if (variant === 'plugins' && only !== undefined) {
    text = text.replace(/^plugins = \[.*\]$/m, `plugins = ${JSON.stringify(only.split(',').filter(Boolean))}`)
  }
  if (variant === 'tracing') text += `\n[tracing]\nendpoint = "${(await startOtlpSink()).url}"\nsampling_ratio = ${TRACING_RATIO}\n`
  if (variant === 'logs') text += `access_log = "combined"\naccess_log_path = ${JSON.stringify(join(dir, 'access.log'))}\n`
  const config = join(dir, 'gateway.toml')
  writeFileSync(config, text)
  const profDir = join(dir, 'prof')
  const node = join(repoRoot, 'node_modules/node/bin/node')
  const main = join(repoRoot, 'packages/cli/src/main.ts')
  // NODE_FLAGS="--trace-gc" adds flags to the gateway's node.
  const extra = (process.env.NODE_FLAGS ?? '').split(' ').filter(Boolean)
  const heapSnapshot = process.env.HEAP_SNAPSHOT === '1'
  if (heapSnapshot) extra.push('--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${outDir}`)
  // NO_PROFILE=1: CPU per thread only, without the profiler (whose sampling signals wake every thread, idle ones too).
  const profiling = process.env.NO_PROFILE !== '1'
  const profArgs = profiling ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []
  const args = ['-c', cpus.proxy, node, ...extra, ...profArgs, main, 'proxy', '--config', config]
  const gateway = startProcess('gateway', tools.taskset, args, { cwd: repoRoot })
  const url = `http://127.0.0.1:${port}${variant === 'plugins' ? `${MEASURED_PATH}?token=${benchJwt()}` : MEASURED_PATH}`
  await waitUntilServing(gateway, url, 20_000)
  // The same warm-up as the benchmark, so the profile shows optimised code.
  await runWrk(tools, { url, cpus: cpus.load, threads: 1, connections: 50, durationS: 3 })
  // HEAP_SNAPSHOT=1: a heap snapshot one second before the load ends, into bench/results.
  const snapshotWritten =
    heapSnapshot || process.env.SIGNAL_AT_END === '1'
      ? sleep((seconds - 1) * 1000).then(() => void process.kill(gateway.pid, 'SIGUSR2'))
      : undefined
  const threadsBefore = threadTicks(gateway.pid)
  const wrk = parseWrkOutput(await runWrk(tools, { url, cpus: cpus.load, threads: 1, connections: 50, durationS: seconds }))
  const threadsAfter = threadTicks(gateway.pid)
  await snapshotWritten
  await gateway.stop(10_000)
  // The gateway's output is kept with NODE_FLAGS (what --trace-gc and the like print) or SAVE_OUTPUT=1.
  if (extra.length > 0 || process.env.SAVE_OUTPUT === '1') writeFileSync(join(outDir, `profile-${variant}.out`), gateway.output())
  let saved = '(none)'
  if (profiling) {
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'))
    if (file === undefined) throw new Error('the gateway wrote no profile')
    const raw = readFileSync(join(profDir, file), 'utf8')
    saved = join(outDir, `profile-${variant}.cpuprofile`)
    writeFileSync(saved, raw)
    summarise(JSON.parse(raw) as CpuProfile, wrk.requests)
  }
  // The profile covers the main thread only; GC helpers, the compiler and libuv's pool show here.
  process.stdout.write(`\nCPU by thread (µs/request, from /proc${profiling ? '; the profiler itself included' : ''}):\n`)
  for (const [name, ticks] of threadsAfter) {
    const used = ticks - (threadsBefore.get(name) ?? 0)
    if (used > 0) process.stdout.write(`${((used * 10_000) / wrk.requests).toFixed(2).padStart(7)}  ${name}\n`)
  }
  process.stdout.write(`${Math.round(wrk.requestsPerSec)} req/s; profile: ${saved}\n`)
} finally {
  await stopAll()
}

/** CPU ticks (user + system) per thread name of process `pid`; threads of one name are summed. */
function threadTicks(pid: number): Map<string, number> {
  const out = new Map<string, number>()
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      out.set(name, (out.get(name) ?? 0) + parseStatCpuTicks(stat))
    } catch {
      // the thread ended meanwhile
    }
  }
  return out
}

/** Self time per function (µs per request), top 40, and per file. */
function summarise(profile: CpuProfile, requests: number): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  const byFunction = new Map<string, number>()
  const byFile = new Map<string, number>()
  let total = 0
  for (const [id, us] of self) {
    const frame = (byId.get(id) as ProfileNode).callFrame
    const file = frame.url.replace(/^.*\/(node_modules\/\.pnpm\/[^/]+|packages\/[^/]+\/src)\//, '$1/').replace(/^node:/, 'node:')
    const key = `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`
    byFunction.set(key, (byFunction.get(key) ?? 0) + us)
    byFile.set(file || frame.functionName, (byFile.get(file || frame.functionName) ?? 0) + us)
    total += us
  }
  const per = (us: number) => (us / requests).toFixed(2).padStart(7)
  process.stdout.write(`${requests} requests, ${per(total)} µs of samples per request (idle included)\n\nby function (µs/request):\n`)
  for (const [k, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 40)) process.stdout.write(`${per(us)}  ${k}\n`)
  process.stdout.write('\nby file:\n')
  for (const [k, us] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 25)) process.stdout.write(`${per(us)}  ${k}\n`)
}

// The benchmark: one nginx backend, then each proxy in turn under wrk, then a Markdown report.
// Run from the repo root with `bash bench/run.sh` (or `pnpm bench`); knobs are in bench/README.md.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { busyPercent, readCpuTimes } from './cpu-usage.ts'
import { startBackend } from './nginx.ts'
import { findTools, pinSelf, planCpus, type Tools, toolVersion } from './preflight.ts'
import { interruption, stopAll, stopEverythingOnExit } from './processes.ts'
import { waitUntilServing } from './readiness.ts'
import { type ReportMeta, renderReport, type TargetResult, writeReport } from './report.ts'
import { medianRuns, roundsSection } from './rounds.ts'
import { readGroupCpuTicks, readGroupRssKb, startRssSampler } from './rss.ts'
import { type BenchSettings, readSettings, WRK_THREADS } from './settings.ts'
import { allTargets, BASELINE, type Target, type TargetContext } from './targets.ts'
import { parseWrkOutput, runWrk } from './wrk.ts'

const repoRoot = new URL('..', import.meta.url).pathname.replace(/\/$/, '')
const resultsPath = join(repoRoot, 'bench/results/latest.md')

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`)
}

async function load(ctx: TargetContext, settings: BenchSettings, url: string, durationS: number) {
  const run = { url, cpus: ctx.cpus.load, threads: WRK_THREADS, connections: settings.connections, durationS }
  return parseWrkOutput(await runWrk(ctx.tools, run))
}

/** Starts one target, measures idle RSS, warms it up, measures it under wrk with peak RSS, and stops it. */
async function measure(target: Target, ctx: TargetContext, settings: BenchSettings): Promise<TargetResult> {
  const { name, describe } = target
  let started: Awaited<ReturnType<Target['start']>> | undefined
  try {
    log(`${name}: starting`)
    started = await target.start(ctx)
    await waitUntilServing(started.process, started.url, 20_000)
    await sleep(500) // let start-up garbage settle before reading the idle footprint
    const idleRssKb = readGroupRssKb(started.process.pid)
    // Peak covers warm-up and measurement: both are the same load.
    const sampler = startRssSampler(started.process.pid, 200)
    log(`${name}: warm-up ${settings.warmupS} s`)
    await load(ctx, settings, started.url, settings.warmupS)
    log(`${name}: measuring ${settings.durationS} s`)
    const cpuBefore = readCpuTimes()
    const ticksBefore = readGroupCpuTicks(started.process.pid)
    const wrk = await load(ctx, settings, started.url, settings.durationS)
    const ticksAfter = readGroupCpuTicks(started.process.pid)
    const cpuAfter = readCpuTimes()
    const peakRssKb = sampler.stop()
    const cpu = {
      proxy: busyPercent(cpuBefore, cpuAfter, Number(ctx.cpus.proxy)),
      load: busyPercent(cpuBefore, cpuAfter, Number(ctx.cpus.load)),
      // Clock ticks are 10 ms: over a 10 s run at thousands of requests/s the error is under 1 %.
      usPerRequest: wrk.requests > 0 ? ((ticksAfter - ticksBefore) * 10_000) / wrk.requests : 0,
    }
    const note = started.process.hasExited() ? 'the process exited during the run' : undefined
    log(`${name}: ${Math.round(wrk.requestsPerSec)} req/s, p99 ${wrk.p99Ms.toFixed(2)} ms`)
    return { name, describe, status: 'ok', wrk, idleRssKb, peakRssKb, cpu, ...(note ? { note } : {}) }
  } catch (err) {
    log(`${name}: FAILED: ${(err as Error).message}`)
    return { name, describe, status: 'failed', error: (err as Error).message }
  } finally {
    await started?.process.stop()
  }
}

function selectTargets(settings: BenchSettings): { run: Target[]; skipped: TargetResult[] } {
  const run: Target[] = []
  const skipped: TargetResult[] = []
  for (const { target, optIn } of allTargets()) {
    if (settings.only && !settings.only.includes(target.name)) continue
    // A target named in BENCH_TARGETS runs whatever its opt-in.
    const enabled = optIn === undefined || (optIn === 'BENCH_WORKERS=1' && settings.workers) || settings.only !== undefined
    if (enabled) run.push(target)
    else skipped.push({ name: target.name, describe: target.describe, status: 'skipped', reason: `set ${optIn} to run it` })
  }
  return { run, skipped }
}

function collectMeta(tools: Tools, ctx: TargetContext, settings: BenchSettings): ReportMeta {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8')
  const { proxy, load, warning } = ctx.cpus
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? 'unknown',
    node: process.version,
    nginx: toolVersion(tools.nginx, ['-v']).replace('nginx version: ', ''),
    wrk: toolVersion(tools.wrk, ['--version']).split(' Copyright')[0] ?? 'wrk',
    durationS: settings.durationS,
    warmupS: settings.warmupS,
    connections: settings.connections,
    threads: WRK_THREADS,
    pinning: warning ?? `proxy on CPU ${proxy}; wrk, nginx backend and this orchestrator on CPU ${load}`,
    baseline: BASELINE,
  }
}

async function main(): Promise<number> {
  stopEverythingOnExit()
  const settings = readSettings()
  const tools = findTools()
  const cpus = planCpus()
  if (cpus.warning) log(`warning: ${cpus.warning}`)
  pinSelf(tools, cpus.load)
  const { run, skipped } = selectTargets(settings)
  if (run.length === 0) throw new Error(`no target selected (BENCH_TARGETS=${process.env.BENCH_TARGETS ?? ''})`)
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-bench-'))
  try {
    const backend = await startBackend(tools, join(dir, 'nginx-backend'), cpus.load)
    log(`backend: nginx on 127.0.0.1:${backend.port} (pid ${backend.process.pid})`)
    const ctx: TargetContext = { tools, cpus, dir, repoRoot, backendPort: backend.port }
    const rounds: TargetResult[][] = []
    for (let i = 0; i < settings.rounds; i++) {
      if (settings.rounds > 1) log(`round ${i + 1} of ${settings.rounds}`)
      const round: TargetResult[] = []
      for (const target of run) {
        interruption.throwIfAborted()
        round.push(await measure(target, ctx, settings))
      }
      rounds.push(round)
    }
    interruption.throwIfAborted()
    const results = medianRuns(rounds)
    const markdown = renderReport([...results, ...skipped], collectMeta(tools, ctx, settings), roundsSection(rounds))
    process.stdout.write(`\n${markdown}`)
    writeReport(resultsPath, markdown)
    log(`report written to ${resultsPath}`)
    return rounds.some((round) => round.some((r) => r.status === 'failed')) ? 1 : 0
  } finally {
    await stopAll()
    rmSync(dir, { recursive: true, force: true })
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`[bench] ${err.message}\n`)
    void stopAll().finally(() => process.exit(interruption.aborted ? 130 : 1))
  },
)

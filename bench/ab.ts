// A/B of two targets that run side by side: both proxies start on the proxy core, then wrk
// loads them in alternating bursts (A B B A ...), so both see the same machine. On a shared VM
// the speed drifts by tens of percent within minutes; a ratio taken within one pair of bursts
// seconds apart cancels that drift, where targets measured one after another do not.
//
// One process can also be a few percent faster or slower than another of the same build for its
// whole life (where the JIT and the allocator happened to put things), so the pair is started
// afresh BENCH_AB_STARTS times, in alternating order, and the figure is the median over all
// pairs of bursts; the per-start medians show how far apart the starts were.
//
//   node_modules/.bin/node bench/ab.ts fleetgate fleetgate-plugins
//   node_modules/.bin/node bench/ab.ts fleetgate fleetgate   (A/A: how much the method itself moves)
//   BENCH_AB_STARTS (default 4), BENCH_AB_PAIRS per start (default 4), BENCH_AB_BURST seconds
//   (default 3), BENCH_CONNECTIONS (default 50)
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startBackend } from './nginx.ts'
import { findTools, pinSelf, planCpus } from './preflight.ts'
import { stopAll, stopEverythingOnExit } from './processes.ts'
import { waitUntilServing } from './readiness.ts'
import { readGroupCpuTicks } from './rss.ts'
import { WRK_THREADS } from './settings.ts'
import { allTargets, type StartedTarget, type TargetContext } from './targets.ts'
import { parseWrkOutput, runWrk } from './wrk.ts'

const repoRoot = new URL('..', import.meta.url).pathname.replace(/\/$/, '')

function log(message: string): void {
  process.stderr.write(`[ab] ${message}\n`)
}

const pct = (r: number) => `${r >= 1 ? '+' : ''}${((r - 1) * 100).toFixed(1)}%`

function whole(name: string, fallback: number, max: number): number {
  const raw = process.env[name]
  const value = raw === undefined || raw === '' ? fallback : Number(raw)
  if (!Number.isInteger(value) || value < 1 || value > max) throw new Error(`${name} must be a whole number from 1 to ${max}, got "${raw}"`)
  return value
}

/** The value at quantile q (0..1) of sorted numbers, interpolated. */
export function quantile(sorted: number[], q: number): number {
  const at = (sorted.length - 1) * q
  const lo = Math.floor(at)
  const hi = Math.ceil(at)
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (at - lo)
}

interface Burst {
  rps: number
  usPerRequest: number
}

async function burst(ctx: TargetContext, target: StartedTarget, seconds: number, connections: number): Promise<Burst> {
  const before = readGroupCpuTicks(target.process.pid)
  const text = await runWrk(ctx.tools, { url: target.url, cpus: ctx.cpus.load, threads: WRK_THREADS, connections, durationS: seconds })
  const ticks = readGroupCpuTicks(target.process.pid) - before
  const wrk = parseWrkOutput(text)
  if (wrk.non2xx + wrk.socketErrors > 0) throw new Error(`${target.url}: ${wrk.non2xx} non-2xx, ${wrk.socketErrors} socket errors`)
  return { rps: wrk.requestsPerSec, usPerRequest: (ticks * 10_000) / Math.max(wrk.requests, 1) }
}

async function main(): Promise<void> {
  const [nameA, nameB] = process.argv.slice(2)
  const known = allTargets().map((t) => t.target)
  const a = known.find((t) => t.name === nameA)
  const b = known.find((t) => t.name === nameB)
  if (a === undefined || b === undefined) {
    throw new Error(`usage: bench/ab.ts TARGET_A TARGET_B (two of: ${known.map((t) => t.name).join(', ')}; the same twice is an A/A check)`)
  }
  const starts = whole('BENCH_AB_STARTS', 4, 50)
  const pairs = whole('BENCH_AB_PAIRS', 4, 200)
  const seconds = whole('BENCH_AB_BURST', 3, 60)
  const connections = whole('BENCH_CONNECTIONS', 50, 10_000)
  stopEverythingOnExit()
  const tools = findTools()
  const cpus = planCpus()
  pinSelf(tools, cpus.load)
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-ab-'))
  try {
    const backend = await startBackend(tools, join(dir, 'nginx-backend'), cpus.load)
    const ctx: TargetContext = { tools, cpus, dir, repoRoot, backendPort: backend.port }
    const rpsRatios: number[] = []
    const cpuRatios: number[] = []
    const perStart: string[] = []
    for (let s = 0; s < starts; s++) {
      // A first, then B first: neither always starts into the emptier machine.
      const started: Partial<Record<'a' | 'b', StartedTarget>> = {}
      for (const side of s % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const)) {
        const target = side === 'a' ? a : b
        const proc = await target.start(ctx)
        await waitUntilServing(proc.process, proc.url, 20_000)
        started[side] = proc
      }
      const sa = started.a as StartedTarget
      const sb = started.b as StartedTarget
      log(`start ${s + 1}/${starts}: warm-up, one burst each`)
      await burst(ctx, sa, seconds, connections)
      await burst(ctx, sb, seconds, connections)
      const startRatios: number[] = []
      for (let i = 0; i < pairs; i++) {
        // A B, then B A: neither side always goes first.
        const order = i % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const)
        const got: Partial<Record<'a' | 'b', Burst>> = {}
        for (const side of order) got[side] = await burst(ctx, side === 'a' ? sa : sb, seconds, connections)
        const ra = got.a as Burst
        const rb = got.b as Burst
        rpsRatios.push(rb.rps / ra.rps)
        cpuRatios.push(rb.usPerRequest / ra.usPerRequest)
        startRatios.push(rb.rps / ra.rps)
        log(
          `start ${s + 1} pair ${i + 1}/${pairs}: ${a.name} ${Math.round(ra.rps)} req/s ${ra.usPerRequest.toFixed(1)} µs/req; ` +
            `${b.name} ${Math.round(rb.rps)} req/s ${rb.usPerRequest.toFixed(1)} µs/req`,
        )
      }
      perStart.push(
        pct(
          quantile(
            [...startRatios].sort((x, y) => x - y),
            0.5,
          ),
        ),
      )
      await Promise.all([sa.process.stop(), sb.process.stop()])
    }
    const line = (label: string, ratios: number[]) => {
      const sorted = [...ratios].sort((x, y) => x - y)
      return `| ${label} | ${pct(quantile(sorted, 0.5))} | ${pct(quantile(sorted, 0.25))} .. ${pct(quantile(sorted, 0.75))} |`
    }
    process.stdout.write(
      [
        `${b.name} against ${a.name}: ${starts} starts × ${pairs} pairs of ${seconds} s bursts, wrk -c${connections}, both proxies on CPU ${cpus.proxy}`,
        '',
        '| figure | median | middle half of the pairs |',
        '|---|---:|---:|',
        line('req/s', rpsRatios),
        line('proxy CPU per request', cpuRatios),
        '',
        `req/s, median of each start: ${perStart.join(', ')}`,
        '',
      ].join('\n'),
    )
  } finally {
    await stopAll()
    rmSync(dir, { recursive: true, force: true })
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`[ab] ${err.message}\n`)
    void stopAll().finally(() => process.exit(1))
  },
)

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
import { type Pair, ratioRow, runPair, startBoth } from './pair.ts'
import { readGroupCpuTicks } from './rss.ts'
import { positiveNumber, WRK_THREADS } from './settings.ts'
import { median, percentChange } from './stats.ts'
import type { StartedTarget, TargetContext } from './targets.ts'
import { parseWrkOutput, runWrk } from './wrk.ts'

function log(message: string): void {
  process.stderr.write(`[ab] ${message}\n`)
}

const pct = (ratio: number) => percentChange(ratio, 1)

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

async function measure(pair: Pair): Promise<void> {
  const { a, b, ctx, connections } = pair
  const starts = positiveNumber('BENCH_AB_STARTS', 4, 50)
  const pairs = positiveNumber('BENCH_AB_PAIRS', 4, 200)
  const seconds = positiveNumber('BENCH_AB_BURST', 3, 60)
  const rpsRatios: number[] = []
  const cpuRatios: number[] = []
  const perStart: string[] = []
  for (let s = 0; s < starts; s++) {
    const [sa, sb] = await startBoth(pair, s)
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
    perStart.push(pct(median(startRatios)))
    await Promise.all([sa.process.stop(), sb.process.stop()])
  }
  process.stdout.write(
    [
      `${b.name} against ${a.name}: ${starts} starts × ${pairs} pairs of ${seconds} s bursts, wrk -c${connections}, both proxies on CPU ${ctx.cpus.proxy}`,
      '',
      '| figure | median | middle half of the pairs |',
      '|---|---:|---:|',
      ratioRow('req/s', rpsRatios),
      ratioRow('proxy CPU per request', cpuRatios),
      '',
      `req/s, median of each start: ${perStart.join(', ')}`,
      '',
    ].join('\n'),
  )
}

runPair('ab', measure)

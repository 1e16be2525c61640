// A/B of two targets loaded at the same time: both proxies on the proxy core, two wrk processes
// on the load core, started and stopped together. Whatever the shared VM does in those seconds
// (another guest's burst, a slower clock) it does to both, where bench/ab.ts's alternating
// bursts, seconds apart, still see it on one side only.
//
// The figure is CPU per request: each proxy's own CPU time (every thread of its process group,
// in nanoseconds, from /proc/PID/task/TID/schedstat) over the requests it answered. Requests/s
// is printed too but is not the figure: the scheduler shares the core among threads, so a
// target with an extra busy thread (tracing's export thread) takes part of the other's share,
// and the req/s ratio then understates its cost. On a core of its own a CPU-bound proxy serves
// 1 / (CPU per request): the CPU ratio is the req/s a target loses there.
//
// The two proxies sharing the core also pay for switching between them (each finds its caches
// cooled by the other, a few times per scheduler slice), which adds about the same to both
// and makes a difference look slightly smaller than on a core of its own.
//
// As in bench/ab.ts, one process can be a few percent faster or slower than another of the same
// build for its whole life, so the pair is started BENCH_CC_STARTS times; the order of starting
// alternates.
//
//   node_modules/.bin/node bench/concurrent.ts fleetgate fleetgate-tracing
//   node_modules/.bin/node bench/concurrent.ts fleetgate fleetgate   (A/A: the method's own noise)
//   BENCH_CC_STARTS (default 6), BENCH_CC_ROUNDS per start (default 5), BENCH_CC_BURST seconds
//   (default 5), BENCH_CONNECTIONS per target (default 50)
import { type Pair, ratioRow, runPair, startBoth } from './pair.ts'
import { readGroupCpuNsByThread } from './rss.ts'
import { positiveNumber, WRK_THREADS } from './settings.ts'
import { median, percentChange } from './stats.ts'
import type { StartedTarget, TargetContext } from './targets.ts'
import { parseWrkOutput, runWrk } from './wrk.ts'

function log(message: string): void {
  process.stderr.write(`[concurrent] ${message}\n`)
}

interface Share {
  rps: number
  usPerRequest: number
  /** The same by thread name: the main thread, a worker, V8's helpers. */
  byThread: Map<string, number>
}

const sum = (byThread: Map<string, number>): number => [...byThread.values()].reduce((a, b) => a + b, 0)

/** Thread CPU a request, by name, as "node 70.1 + WorkerThread 0.6 + V8 DefaultWorke 3.2". */
const breakdown = (byThread: Map<string, number>): string =>
  [...byThread]
    .filter(([, us]) => us >= 0.05)
    .sort((x, y) => y[1] - x[1])
    .map(([name, us]) => `${name} ${us.toFixed(1)}`)
    .join(' + ')

/** A round in which a request failed or went unanswered: its figures are not used. */
class FailedRound extends Error {}

/** Loads both targets for `seconds` at once; returns each one's req/s and CPU a request. */
async function together(ctx: TargetContext, targets: readonly StartedTarget[], seconds: number, connections: number): Promise<Share[]> {
  const before = targets.map((t) => readGroupCpuNsByThread(t.process.pid))
  const texts = await Promise.all(
    targets.map((t) => runWrk(ctx.tools, { url: t.url, cpus: ctx.cpus.load, threads: WRK_THREADS, connections, durationS: seconds })),
  )
  const after = targets.map((t) => readGroupCpuNsByThread(t.process.pid))
  return targets.map((t, i) => {
    const wrk = parseWrkOutput(texts[i] as string)
    if (wrk.non2xx + wrk.socketErrors > 0) throw new FailedRound(`${t.url}: ${wrk.non2xx} non-2xx, ${wrk.socketErrors} socket errors`)
    const byThread = new Map<string, number>()
    const was = before[i] as Map<string, number>
    for (const [name, ns] of after[i] as Map<string, number>)
      byThread.set(name, (ns - (was.get(name) ?? 0)) / 1000 / Math.max(wrk.requests, 1))
    return { rps: wrk.requestsPerSec, usPerRequest: sum(byThread), byThread }
  })
}

function skipFailed(err: unknown): undefined {
  if (!(err instanceof FailedRound)) throw err
  log(`round left out: ${err.message}`)
  return undefined
}

async function measure(pair: Pair): Promise<void> {
  const { a, b, ctx, connections } = pair
  const starts = positiveNumber('BENCH_CC_STARTS', 6, 50)
  const rounds = positiveNumber('BENCH_CC_ROUNDS', 5, 200)
  const seconds = positiveNumber('BENCH_CC_BURST', 5, 60)
  const cpuRatios: number[] = []
  const rpsRatios: number[] = []
  const perStart: string[] = []
  let failed = 0
  for (let s = 0; s < starts; s++) {
    const [sa, sb] = await startBoth(pair, s)
    log(`start ${s + 1}/${starts}: warm-up`)
    await together(ctx, [sa, sb], seconds, connections).catch(skipFailed)
    const startRatios: number[] = []
    for (let r = 0; r < rounds; r++) {
      const shares = await together(ctx, [sa, sb], seconds, connections).catch(skipFailed)
      if (shares === undefined) {
        // On a stalled VM wrk's 2 s timeout can go off; such a round is left out, not the run.
        if (++failed > (starts * rounds) / 4) throw new Error(`${failed} rounds failed: the machine is too loaded to measure`)
        continue
      }
      const [ra, rb] = shares as [Share, Share]
      cpuRatios.push(rb.usPerRequest / ra.usPerRequest)
      rpsRatios.push(rb.rps / ra.rps)
      startRatios.push(rb.usPerRequest / ra.usPerRequest)
      log(
        `start ${s + 1} round ${r + 1}/${rounds}: ${a.name} ${Math.round(ra.rps)} req/s ${ra.usPerRequest.toFixed(1)} µs/req; ` +
          `${b.name} ${Math.round(rb.rps)} req/s ${rb.usPerRequest.toFixed(1)} µs/req ` +
          `(${a.name}: ${breakdown(ra.byThread)}; ${b.name}: ${breakdown(rb.byThread)})`,
      )
    }
    perStart.push(percentChange(median(startRatios), 1))
    await Promise.all([sa.process.stop(), sb.process.stop()])
  }
  process.stdout.write(
    [
      `${b.name} against ${a.name}, loaded together: ${starts} starts × ${rounds} rounds of ${seconds} s, wrk -c${connections} each, both proxies on CPU ${ctx.cpus.proxy}`,
      '',
      '| figure | median | middle half of the rounds |',
      '|---|---:|---:|',
      ratioRow('proxy CPU per request', cpuRatios),
      ratioRow('req/s (not the figure: see the header)', rpsRatios),
      '',
      `CPU per request, median of each start: ${perStart.join(', ')}`,
      ...(failed > 0 ? ['', `${failed} rounds left out: a request failed or timed out (see the log)`] : []),
      '',
    ].join('\n'),
  )
}

runPair('concurrent', measure)

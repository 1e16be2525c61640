// What the two A/B scripts (ab.ts: alternating bursts; concurrent.ts: both loaded at once) share:
// the two targets named on the command line, the nginx backend on the load core, and the cleanup.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { startBackend } from './nginx.ts'
import { findTools, pinSelf, planCpus } from './preflight.ts'
import { stopAll, stopEverythingOnExit } from './processes.ts'
import { waitUntilServing } from './readiness.ts'
import { readSettings } from './settings.ts'
import { median, percentChange, quantile } from './stats.ts'
import { allTargets, type StartedTarget, type Target, type TargetContext } from './targets.ts'

const repoRoot = new URL('..', import.meta.url).pathname.replace(/\/$/, '')

/** The two targets and what starting them needs. */
export interface Pair {
  a: Target
  b: Target
  ctx: TargetContext
  /** wrk connections per target (BENCH_CONNECTIONS). */
  connections: number
}

/**
 * Runs `measure` on the two targets named in argv (`bench/SCRIPT.ts A B`), with an nginx backend on
 * the load core, then stops every process and exits: 0, or 1 with the error on stderr as `[tag]`.
 */
export function runPair(tag: string, measure: (pair: Pair) => Promise<void>): void {
  const run = async () => {
    const [nameA, nameB] = process.argv.slice(2)
    const known = allTargets().map((t) => t.target)
    const a = findTarget(known, nameA)
    const b = findTarget(known, nameB)
    if (a === undefined || b === undefined) {
      throw new Error(
        `usage: bench/${tag}.ts TARGET_A TARGET_B (two of: ${known.map((t) => t.name).join(', ')}; the same twice is an A/A check; ` +
          'TARGET@DIR runs the target from the checkout in DIR, set up with its own install, to compare two commits)',
      )
    }
    const { connections } = readSettings()
    stopEverythingOnExit()
    const tools = findTools()
    const cpus = planCpus()
    pinSelf(tools, cpus.load)
    const dir = mkdtempSync(join(tmpdir(), `fleetgate-${tag}-`))
    try {
      const backend = await startBackend(tools, join(dir, 'nginx-backend'), cpus.load)
      await measure({ a, b, ctx: { tools, cpus, dir, repoRoot, backendPort: backend.port }, connections })
    } finally {
      await stopAll()
      rmSync(dir, { recursive: true, force: true })
    }
  }
  run().then(
    () => process.exit(0),
    (err: Error) => {
      process.stderr.write(`[${tag}] ${err.message}\n`)
      void stopAll().finally(() => process.exit(1))
    },
  )
}

/** The target named `name`, or for `NAME@DIR` target NAME run from the checkout in DIR (its own node_modules). */
function findTarget(known: readonly Target[], name: string | undefined): Target | undefined {
  const at = name?.indexOf('@') ?? -1
  const target = known.find((t) => t.name === (at < 0 ? name : name?.slice(0, at)))
  if (target === undefined || at < 0 || name === undefined) return target
  const root = resolve(name.slice(at + 1))
  return { name, describe: `${target.describe} (from ${root})`, start: (ctx) => target.start({ ...ctx, repoRoot: root }) }
}

/**
 * Starts both targets of a pair, each serving before the next starts: `a` first on even starts,
 * `b` first on odd ones, so that neither always starts into the emptier machine. Returns [a, b].
 */
export async function startBoth({ a, b, ctx }: Pair, start: number): Promise<[StartedTarget, StartedTarget]> {
  const started: StartedTarget[] = []
  for (const target of start % 2 === 0 ? [a, b] : [b, a]) {
    const proc = await target.start(ctx)
    await waitUntilServing(proc.process, proc.url, 20_000)
    started.push(proc)
  }
  return (start % 2 === 0 ? started : started.reverse()) as [StartedTarget, StartedTarget]
}

/** A report row: the median of B/A `ratios` as a change, and the middle half of them. */
export function ratioRow(label: string, ratios: readonly number[]): string {
  const pct = (ratio: number) => percentChange(ratio, 1)
  return `| ${label} | ${pct(median(ratios))} | ${pct(quantile(ratios, 0.25))} .. ${pct(quantile(ratios, 0.75))} |`
}

// Summarises the PHASE lines of a gateway run with tracing-phases.patch applied (see README.md):
//   node_modules/.bin/node bench/experiments/phases.ts bench/results/profile-tracing.out
// Each line is one pair of seconds, tracing off then on, in one process: the difference in CPU a
// request within a pair cancels the machine's drift and the process's JIT and layout luck.
import { readFileSync } from 'node:fs'
import { median } from '../stats.ts'

/** Pairs from the first seconds (warm-up, the export thread starting) are left out. */
const SKIP_PAIRS = 5
/** A pair with fewer requests a second than this was cut by the end of the load. */
const MIN_REQUESTS = 5000

const file = process.argv[2]
if (file === undefined) throw new Error('usage: bench/experiments/phases.ts OUTPUT_FILE')

const pairs = readFileSync(file, 'utf8')
  .split('\n')
  .filter((line) => line.startsWith('PHASE '))
  .map((line) => line.split(' ').slice(1).map(Number) as [number, number, number, number])
  .slice(SKIP_PAIRS)
  .filter(([, , offRequests, onRequests]) => offRequests >= MIN_REQUESTS && onRequests >= MIN_REQUESTS)
if (pairs.length < 3) throw new Error(`${file}: ${pairs.length} usable PHASE pairs; run the load longer`)

const mean = (values: readonly number[]) => values.reduce((sum, v) => sum + v, 0) / values.length
/** Standard error of the mean. */
function standardError(values: readonly number[]): number {
  const m = mean(values)
  return Math.sqrt(values.reduce((sum, v) => sum + (v - m) ** 2, 0) / (values.length - 1) / values.length)
}

const extraUs = pairs.map(([off, on]) => on - off)
const extraRatio = pairs.map(([off, on]) => (on / off - 1) * 100)
process.stdout.write(
  [
    `${pairs.length} pairs of seconds; CPU a request with tracing off ${mean(pairs.map((p) => p[0])).toFixed(2)} µs`,
    `tracing on costs ${mean(extraUs).toFixed(2)} ± ${standardError(extraUs).toFixed(2)} µs a request (median ${median(extraUs).toFixed(2)}),` +
      ` ${mean(extraRatio).toFixed(2)} ± ${standardError(extraRatio).toFixed(2)} %`,
    '',
  ].join('\n'),
)

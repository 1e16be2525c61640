/** The benchmark's knobs, read once from the environment. */
export interface BenchSettings {
  /** Seconds of measured load per target (BENCH_DURATION, default 10). */
  durationS: number
  /** wrk connections (BENCH_CONNECTIONS, default 50). */
  connections: number
  /** Seconds of unmeasured load before each run (BENCH_WARMUP, default 3). */
  warmupS: number
  /** Whether to run `fleetgate --workers 2` (BENCH_WORKERS=1). */
  workers: boolean
  /** Only these targets when BENCH_TARGETS is set (comma separated names). */
  only: string[] | undefined
  /** Times the whole target list is run, interleaved (BENCH_ROUNDS, default 1). */
  rounds: number
}

/** wrk runs single-threaded: on the one load core, more threads would only contend. */
export const WRK_THREADS = 1

/** The path wrk requests on every target; in the gateway it hits the `api` location. */
export const MEASURED_PATH = '/api/v1/items'

/** A whole number from 1 to `max` in environment variable `name` (a trailing "s" allowed), else `fallback`; throws on nonsense. */
export function positiveNumber(name: string, fallback: number, max: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw.replace(/s$/, ''))
  if (!Number.isInteger(value) || value < 1 || value > max) throw new Error(`${name} must be a whole number from 1 to ${max}, got "${raw}"`)
  return value
}

/** Reads BENCH_DURATION, BENCH_CONNECTIONS, BENCH_WARMUP, BENCH_WORKERS, BENCH_TARGETS and BENCH_ROUNDS; throws on nonsense. */
export function readSettings(): BenchSettings {
  const only = process.env.BENCH_TARGETS?.split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  return {
    durationS: positiveNumber('BENCH_DURATION', 10, 600),
    connections: positiveNumber('BENCH_CONNECTIONS', 50, 10_000),
    warmupS: positiveNumber('BENCH_WARMUP', 3, 60),
    workers: process.env.BENCH_WORKERS === '1',
    only: only && only.length > 0 ? only : undefined,
    rounds: positiveNumber('BENCH_ROUNDS', 1, 50),
  }
}

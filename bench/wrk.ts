import type { Tools } from './preflight.ts'
import { startProcess } from './processes.ts'

/** What one wrk run measured. Latencies are in milliseconds. */
export interface WrkResult {
  requestsPerSec: number
  requests: number
  p50Ms: number
  p99Ms: number
  /** Responses outside 2xx/3xx ("Non-2xx or 3xx responses"). */
  non2xx: number
  /** connect + read + write + timeout socket errors. */
  socketErrors: number
}

/** One wrk invocation: `-t threads -c connections -d durationS --latency url`, pinned to `cpus`. */
export interface WrkRun {
  url: string
  cpus: string
  threads: number
  connections: number
  durationS: number
}

const timeUnitsMs: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** Converts a wrk time such as "250.00us", "5.01ms" or "1.20s" to milliseconds. */
export function parseWrkTime(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim())
  if (!m) throw new Error(`not a wrk time: "${text}"`)
  return Number(m[1]) * (timeUnitsMs[m[2] as string] as number)
}

function percentile(text: string, pct: string): number {
  const m = new RegExp(`^\\s*${pct}%\\s+(\\S+)\\s*$`, 'm').exec(text)
  if (!m) throw new Error(`wrk output has no ${pct}% latency (was --latency passed?)`)
  return parseWrkTime(m[1] as string)
}

/** Reads requests/s, p50, p99, non-2xx and socket errors from `wrk --latency` output; throws when the summary is missing. */
export function parseWrkOutput(text: string): WrkResult {
  const rps = /^Requests\/sec:\s*([\d.]+)/m.exec(text)
  const total = /^\s*(\d+) requests in /m.exec(text)
  if (!rps || !total) throw new Error(`wrk printed no summary:\n${text.slice(-1000)}`)
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text)
  const socketErrors = socket ? socket.slice(1, 5).reduce((sum, n) => sum + Number(n), 0) : 0
  const non2xx = Number(/Non-2xx or 3xx responses:\s*(\d+)/.exec(text)?.[1] ?? 0)
  return {
    requestsPerSec: Number(rps[1]),
    requests: Number(total[1]),
    p50Ms: percentile(text, '50'),
    p99Ms: percentile(text, '99'),
    non2xx,
    socketErrors,
  }
}

/** Runs wrk once and returns its raw output; killed if it overruns its duration by 20 s. */
export async function runWrk(tools: Tools, run: WrkRun): Promise<string> {
  const args = ['-c', run.cpus, tools.wrk, `-t${run.threads}`, `-c${run.connections}`, `-d${run.durationS}s`, '--latency', run.url]
  const wrk = startProcess('wrk', tools.taskset, args)
  const overrun = setTimeout(() => void wrk.stop(1000), (run.durationS + 20) * 1000)
  try {
    const code = await wrk.finished
    if (code !== 0) throw new Error(`wrk failed (exit ${code ?? wrk.child.signalCode}):\n${wrk.output().slice(-1000)}`)
    return wrk.output()
  } finally {
    clearTimeout(overrun)
    await wrk.stop(1000)
  }
}

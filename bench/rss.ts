import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { basename } from 'node:path'

// The pnpm `.bin` shims are shell scripts that run node as a child; their ~1.7 MB are not
// the proxy's memory, and nginx has no such wrapper. A shebang script's comm is the script's
// name ("node"), so the executable is what tells a shim apart.
const wrapperExecutables = new Set(['sh', 'dash', 'bash', 'busybox'])

function isWrapperShell(pid: string): boolean {
  try {
    return wrapperExecutables.has(basename(readlinkSync(`/proc/${pid}/exe`)))
  } catch {
    return false // not ours to inspect, or gone: count it rather than hide it
  }
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined // the process ended between listing and reading
  }
}

/** Process group id from a /proc/PID/stat line. */
export function parseStatPgrp(stat: string): number {
  // comm is in parentheses and may itself contain spaces or parentheses: split at the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(fields[2])
}

/** VmRSS in kB from a /proc/PID/status text (0 for kernel threads and zombies, which have none). */
export function parseVmRssKb(status: string): number {
  return Number(/^VmRSS:\s*(\d+)\s*kB/m.exec(status)?.[1] ?? 0)
}

/** Sum of VmRSS (kB) over the processes of group `pgid`, wrapper shells left out. */
export function readGroupRssKb(pgid: number): number {
  let total = 0
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const stat = readProc(`/proc/${entry}/stat`)
    if (stat === undefined) continue
    if (parseStatPgrp(stat) !== pgid || isWrapperShell(entry)) continue
    total += parseVmRssKb(readProc(`/proc/${entry}/status`) ?? '')
  }
  return total
}

/** utime + stime in clock ticks from a /proc/PID/stat line. */
export function parseStatCpuTicks(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // After "pid (comm) ": state is field 0, utime field 11, stime field 12.
  return Number(fields[11]) + Number(fields[12])
}

/**
 * CPU time (user + system, in clock ticks, 100 a second on Linux) used so far by the processes of
 * group `pgid`, wrapper shells left out. Diffed around a run, it is the proxy's own cost, whoever
 * else shares its core.
 */
export function readGroupCpuTicks(pgid: number): number {
  let total = 0
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const stat = readProc(`/proc/${entry}/stat`)
    if (stat === undefined) continue
    if (parseStatPgrp(stat) !== pgid || isWrapperShell(entry)) continue
    total += parseStatCpuTicks(stat)
  }
  return total
}

/** A running RSS sampler; `stop` returns the highest total seen, in kB. */
export interface RssSampler {
  stop(): number
}

/** Samples the group's RSS every `intervalMs` until stopped, keeping the peak. */
export function startRssSampler(pgid: number, intervalMs = 200): RssSampler {
  let peak = readGroupRssKb(pgid)
  const timer = setInterval(() => {
    peak = Math.max(peak, readGroupRssKb(pgid))
  }, intervalMs)
  return {
    stop() {
      clearInterval(timer)
      return Math.max(peak, readGroupRssKb(pgid))
    },
  }
}

/**
 * CPU time in nanoseconds used so far by the threads of the processes of group `pgid` (the
 * first field of /proc/PID/task/TID/schedstat), wrapper shells left out, summed by thread name
 * (`comm`: "node" for the main thread, "WorkerThread" for a worker, "V8 DefaultWorke" for V8's
 * GC helpers). Finer than the clock ticks of readGroupCpuTicks (10 ms): a 5 s share of a core is
 * read to well under 0.1 %.
 */
export function readGroupCpuNsByThread(pgid: number): Map<string, number> {
  const byName = new Map<string, number>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const stat = readProc(`/proc/${entry}/stat`)
    if (stat === undefined) continue
    if (parseStatPgrp(stat) !== pgid || isWrapperShell(entry)) continue
    let tasks: string[]
    try {
      tasks = readdirSync(`/proc/${entry}/task`)
    } catch {
      continue // the process ended between listing and reading
    }
    for (const tid of tasks) {
      const ns = Number(readProc(`/proc/${entry}/task/${tid}/schedstat`)?.split(' ')[0] ?? 0)
      const name = readProc(`/proc/${entry}/task/${tid}/comm`)?.trim() ?? '?'
      byName.set(name, (byName.get(name) ?? 0) + ns)
    }
  }
  return byName
}

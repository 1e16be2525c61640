import { readFileSync } from 'node:fs'

/** Cumulative jiffies of one CPU from /proc/stat. */
export interface CpuTimes {
  busy: number
  total: number
}

/** Per-CPU times from a /proc/stat text, keyed by CPU number (the aggregate "cpu" line is left out). */
export function parseProcStat(text: string): Map<number, CpuTimes> {
  const cpus = new Map<number, CpuTimes>()
  for (const line of text.split('\n')) {
    const m = /^cpu(\d+)\s+(.+)$/.exec(line)
    if (!m) continue
    // user nice system idle iowait irq softirq steal [guest guest_nice]; guest time is already in user.
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = (m[2] as string)
      .split(/\s+/)
      .map(Number)
    const busy = user + nice + system + irq + softirq
    cpus.set(Number(m[1]), { busy, total: busy + idle + iowait + steal })
  }
  return cpus
}

/** A snapshot of every CPU's times, to diff later. */
export function readCpuTimes(): Map<number, CpuTimes> {
  return parseProcStat(readFileSync('/proc/stat', 'utf8'))
}

/**
 * How busy CPU `cpu` was between two snapshots, in percent. A load core near 100 % means
 * wrk or the backend, not the proxy, set the ceiling: the proxy's numbers are then a floor.
 */
export function busyPercent(before: Map<number, CpuTimes>, after: Map<number, CpuTimes>, cpu: number): number {
  const a = before.get(cpu)
  const b = after.get(cpu)
  if (!a || !b || b.total === a.total) return 0
  return (100 * (b.busy - a.busy)) / (b.total - a.total)
}

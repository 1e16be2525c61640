import type { TargetResult } from './report.ts'
import { median, percentChange } from './stats.ts'

type Measured = Extract<TargetResult, { status: 'ok' }>

/** The target every variant's cost is computed against, round by round. */
export const REFERENCE = 'fleetgate'

/**
 * One row per target for the main table: the round with the median requests/s (a real run,
 * not an average), or the first failure when no round succeeded.
 */
export function medianRuns(rounds: TargetResult[][]): TargetResult[] {
  const names = (rounds[0] ?? []).map((r) => r.name)
  return names.map((name) => {
    const all = rounds.map((round) => round.find((r) => r.name === name) as TargetResult)
    const ok = all.filter((r): r is Measured => r.status === 'ok').sort((a, b) => a.wrk.requestsPerSec - b.wrk.requestsPerSec)
    return ok.length === 0 ? (all[0] as TargetResult) : (ok[Math.floor((ok.length - 1) / 2)] as Measured)
  })
}

/**
 * The per-round figures and, for every target measured beside REFERENCE in the same round,
 * its cost as the median of the per-round ratios: the machine's speed drifts between rounds
 * (a shared VM), and a ratio taken within one round cancels most of that drift.
 */
export function roundsSection(rounds: TargetResult[][]): string[] {
  if (rounds.length < 2) return []
  const names = (rounds[0] ?? []).map((r) => r.name)
  const lines = [
    `### ${rounds.length} rounds, targets interleaved`,
    '',
    `| target | req/s per round | proxy CPU µs/req per round | req/s vs ${REFERENCE} (median of rounds) | CPU/req vs ${REFERENCE} (median of rounds) |`,
    '|---|---|---|---:|---:|',
  ]
  for (const name of names) {
    const rps: string[] = []
    const us: string[] = []
    const rpsRatios: number[] = []
    const usRatios: number[] = []
    for (const round of rounds) {
      const r = round.find((x) => x.name === name)
      const ref = round.find((x) => x.name === REFERENCE)
      if (r?.status !== 'ok') {
        rps.push('–')
        us.push('–')
        continue
      }
      rps.push(String(Math.round(r.wrk.requestsPerSec)))
      us.push(String(Math.round(r.cpu.usPerRequest)))
      if (ref?.status === 'ok' && ref !== r) {
        rpsRatios.push(r.wrk.requestsPerSec / ref.wrk.requestsPerSec)
        if (ref.cpu.usPerRequest > 0) usRatios.push(r.cpu.usPerRequest / ref.cpu.usPerRequest)
      }
    }
    const rpsCost = rpsRatios.length === 0 ? '' : percentChange(median(rpsRatios))
    const usCost = usRatios.length === 0 ? '' : percentChange(median(usRatios))
    lines.push(`| ${name} | ${rps.join(' ')} | ${us.join(' ')} | ${rpsCost} | ${usCost} |`)
  }
  return lines
}

import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import type { WrkResult } from './wrk.ts'

/** The outcome of one target: measured, failed (with why), or skipped (with how to enable it). */
export type TargetResult =
  | {
      name: string
      describe: string
      status: 'ok'
      wrk: WrkResult
      idleRssKb: number
      peakRssKb: number
      /**
       * Busy percent of the proxy's core and of the load core during the measured run, and the
       * proxy processes' own CPU time per request (µs).
       */
      cpu: { proxy: number; load: number; usPerRequest: number }
      note?: string
    }
  | { name: string; describe: string; status: 'failed'; error: string }
  | { name: string; describe: string; status: 'skipped'; reason: string }

/** How the numbers were taken, printed above the table. */
export interface ReportMeta {
  date: string
  cpuModel: string
  node: string
  nginx: string
  wrk: string
  durationS: number
  warmupS: number
  connections: number
  threads: number
  pinning: string
  baseline: string
}

type Measured = Extract<TargetResult, { status: 'ok' }>

const ms = (v: number) => v.toFixed(2)
const mb = (kb: number) => (kb / 1024).toFixed(1)
const rps = (v: number) => Math.round(v).toLocaleString('en-US')

function errorCell(w: WrkResult): string {
  const total = w.non2xx + w.socketErrors
  return total === 0 ? '0' : `${total} (non-2xx ${w.non2xx}, socket ${w.socketErrors})`
}

function comparison(r: Measured, base: Measured | undefined): [string, string] {
  if (!base) return ['n/a', 'n/a']
  if (r === base) return ['1.00×', '±0.00']
  const delta = r.wrk.p99Ms - base.wrk.p99Ms
  return [`${(r.wrk.requestsPerSec / base.wrk.requestsPerSec).toFixed(2)}×`, `${delta >= 0 ? '+' : ''}${ms(delta)}`]
}

function row(r: TargetResult, base: Measured | undefined): string {
  if (r.status !== 'ok') return `| ${r.name} | ${r.status} | – | – | – | – | – | – | – | – | – |`
  const [ratio, p99Delta] = comparison(r, base)
  const w = r.wrk
  return `| ${r.name} | ${rps(w.requestsPerSec)} | ${ms(w.p50Ms)} | ${ms(w.p99Ms)} | ${mb(r.peakRssKb)} | ${mb(r.idleRssKb)} | ${errorCell(w)} | ${ratio} | ${p99Delta} | ${Math.round(r.cpu.proxy)} / ${Math.round(r.cpu.load)} | ${Math.round(r.cpu.usPerRequest)} |`
}

function scalingLine(results: TargetResult[]): string | undefined {
  const one = results.find((r): r is Measured => r.name === 'fleetgate' && r.status === 'ok')
  const two = results.find((r): r is Measured => r.name === 'fleetgate --workers 2' && r.status === 'ok')
  if (!one || !two) return undefined
  const factor = two.wrk.requestsPerSec / one.wrk.requestsPerSec
  return `Scaling: fleetgate --workers 2 serves ${factor.toFixed(2)}× the requests/s of one worker (ideal 2.00×; the second worker shares its core with wrk and the backend).`
}

function notes(results: TargetResult[]): string[] {
  return results.flatMap((r) => {
    if (r.status === 'failed') return [`- **${r.name}** failed: ${r.error.split('\n')[0]}`]
    if (r.status === 'skipped') return [`- **${r.name}** skipped: ${r.reason}`]
    return r.note ? [`- **${r.name}**: ${r.note}`] : []
  })
}

/** The whole report as Markdown: conditions, the table, ratios vs the baseline, scaling, failures. */
export function renderReport(results: TargetResult[], meta: ReportMeta, rounds: string[] = []): string {
  const base = results.find((r): r is Measured => r.name === meta.baseline && r.status === 'ok')
  const lines = [
    `# Fleetgate benchmark (${meta.date})`,
    '',
    `- CPU: ${meta.cpuModel}; ${meta.pinning}`,
    `- Node ${meta.node}; ${meta.nginx}; ${meta.wrk}`,
    `- Load: \`wrk -t${meta.threads} -c${meta.connections} -d${meta.durationS}s --latency\` after a ${meta.warmupS} s warm-up; backend: nginx \`return 200\` with ~100 bytes of JSON`,
    '',
    `| target | req/s | p50 (ms) | p99 (ms) | peak RSS (MB) | idle RSS (MB) | errors | req/s vs ${meta.baseline} | p99 Δ vs ${meta.baseline} (ms) | CPU % proxy / load core | proxy CPU µs/req |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...results.map((r) => row(r, base)),
  ]
  if (rounds.length > 0) lines.push('', 'With several rounds, each row above is the round with the median req/s.', '', ...rounds)
  const scaling = scalingLine(results)
  if (scaling) lines.push('', scaling)
  const extra = notes(results)
  if (extra.length > 0) lines.push('', ...extra)
  lines.push('', 'Targets:', ...results.map((r) => `- ${r.name}: ${r.describe}`))
  return `${lines.join('\n')}\n`
}

/** Writes the report to `path`, creating its folder. */
export function writeReport(path: string, markdown: string): void {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, markdown)
}

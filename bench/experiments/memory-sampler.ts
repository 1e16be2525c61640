// Preload (--import) that samples its process's memory every 500 ms into
// $MEM_SAMPLER_DIR/mem-PID.jsonl: VmRSS, RssAnon and RssFile from /proc/self/status,
// process.memoryUsage(), V8's heap spaces and cumulative GC pause time. Every Node process that
// NODE_OPTIONS reaches loads it, so each writes its own file. Summarise with memory-summary.ts.
import { appendFileSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { PerformanceObserver } from 'node:perf_hooks'
import { getHeapSpaceStatistics } from 'node:v8'

const dir = process.env.MEM_SAMPLER_DIR
if (dir !== undefined) {
  const file = join(dir, `mem-${process.pid}.jsonl`)
  const mb = (bytes: number) => Math.round(bytes / 104857.6) / 10
  const started = Date.now()
  let gcMs = 0
  let gcs = 0
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcMs += entry.duration
      gcs++
    }
  }).observe({ entryTypes: ['gc'] })
  const sample = () => {
    const status = readFileSync('/proc/self/status', 'utf8')
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s*(\\d+)`, 'm').exec(status)?.[1] ?? 0)
    const m = process.memoryUsage()
    const spaces: Record<string, [number, number]> = {}
    for (const s of getHeapSpaceStatistics()) spaces[s.space_name] = [mb(s.space_size), mb(s.space_used_size)]
    const row = {
      t: (Date.now() - started) / 1000,
      argv: process.argv.slice(1, 3).join(' '),
      rss: Math.round(kb('VmRSS') / 102.4) / 10,
      anon: Math.round(kb('RssAnon') / 102.4) / 10,
      file: Math.round(kb('RssFile') / 102.4) / 10,
      heapTotal: mb(m.heapTotal),
      heapUsed: mb(m.heapUsed),
      external: mb(m.external),
      arrayBuffers: mb(m.arrayBuffers),
      gcMs: Math.round(gcMs),
      gcs,
      spaces,
    }
    appendFileSync(file, `${JSON.stringify(row)}\n`)
  }
  setInterval(sample, 500).unref()
}

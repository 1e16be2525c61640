// Summarises memory-sampler.ts files: for each process, its command, the sample with the highest
// VmRSS, the highest heapTotal and new-space size seen, and GC pauses over the whole run.
// Usage: node_modules/.bin/node bench/experiments/memory-summary.ts DIR
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

interface Row {
  t: number
  argv: string
  rss: number
  anon: number
  file: number
  heapTotal: number
  heapUsed: number
  external: number
  arrayBuffers: number
  gcMs: number
  gcs: number
  spaces: Record<string, [number, number]>
}

const dir = process.argv[2]
if (dir === undefined) throw new Error('usage: memory-summary.ts DIR')
for (const name of readdirSync(dir).filter((n) => n.startsWith('mem-') && n.endsWith('.jsonl'))) {
  const rows = readFileSync(join(dir, name), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Row)
  const last = rows.at(-1)
  if (last === undefined) continue
  const peak = rows.reduce((a, b) => (b.rss > a.rss ? b : a))
  const most = (pick: (r: Row) => number) => Math.max(...rows.map(pick))
  process.stdout.write(
    `${name} (${last.argv}), ${last.t.toFixed(0)} s: peak VmRSS ${peak.rss} MB at ${peak.t.toFixed(1)} s ` +
      `(RssAnon ${peak.anon}, RssFile ${peak.file}, heapTotal ${peak.heapTotal}, heapUsed ${peak.heapUsed}, ` +
      `external ${peak.external}, arrayBuffers ${peak.arrayBuffers}); most heapTotal ${most((r) => r.heapTotal)}, ` +
      `new space ${most((r) => r.spaces.new_space?.[0] ?? 0)}, old space ${most((r) => r.spaces.old_space?.[0] ?? 0)} MB; ` +
      `GC ${last.gcs} pauses, ${last.gcMs} ms\n`,
  )
}

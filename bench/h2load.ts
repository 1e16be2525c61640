import { spawn } from 'node:child_process'

/** What one h2load run is asked to do. */
export interface H2loadRun {
  url: string
  /** `taskset -c` CPU list h2load runs on. */
  cpus: string
  connections: number
  /** Concurrent streams per connection (-m). */
  streams: number
  durationS: number
  warmupS: number
  /** Request body file (-d): the request becomes a POST. */
  dataPath?: string
  headers?: string[]
}

/** The figures the protocol report uses, from h2load's summary. */
export interface H2loadResult {
  requestsPerSec: number
  succeeded: number
  failed: number
  errored: number
  timeout: number
  status2xx: number
  /** Response body bytes (the "data" of h2load's traffic line). */
  dataBytes: number
  meanMs: number
  maxMs: number
}

/** Parses an h2load duration ("2.04ms", "162us", "1.05s") into milliseconds. */
export function parseH2loadTime(text: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text.trim())
  if (m === null) throw new Error(`unreadable h2load time "${text}"`)
  const value = Number(m[1])
  return m[2] === 'us' ? value / 1000 : m[2] === 's' ? value * 1000 : value
}

/** Reads h2load's (nghttp2 1.52) summary; throws naming the line it could not find. */
export function parseH2loadOutput(out: string): H2loadResult {
  const need = (re: RegExp, what: string) => {
    const m = re.exec(out)
    if (m === null) throw new Error(`h2load output has no ${what} line:\n${out.slice(-1500)}`)
    return m
  }
  const finished = need(/finished in [^,]+, ([\d.]+) req\/s/, 'finished')
  const requests = need(
    /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/,
    'requests',
  )
  const codes = need(/status codes: (\d+) 2xx/, 'status codes')
  const traffic = need(/traffic: .* \((\d+)\) data/, 'traffic')
  const time = need(/time for request:\s+(\S+)\s+(\S+)\s+(\S+)/, 'time for request')
  return {
    requestsPerSec: Number(finished[1]),
    succeeded: Number(requests[1]),
    failed: Number(requests[2]),
    errored: Number(requests[3]),
    timeout: Number(requests[4]),
    status2xx: Number(codes[1]),
    dataBytes: Number(traffic[1]),
    meanMs: parseH2loadTime(time[3] as string),
    maxMs: parseH2loadTime(time[2] as string),
  }
}

/** Runs h2load pinned to `run.cpus` (bounded: its duration plus 30 s) and parses its summary. */
export function runH2load(h2load: string, taskset: string, run: H2loadRun): Promise<H2loadResult> {
  const args = ['-c', run.cpus, h2load, '-t', '1', '-c', String(run.connections), '-m', String(run.streams)]
  args.push('-D', String(run.durationS), `--warm-up-time=${run.warmupS}`)
  if (run.dataPath !== undefined) args.push('-d', run.dataPath)
  for (const header of run.headers ?? []) args.push('-H', header)
  args.push(run.url)
  return new Promise((resolve, reject) => {
    const child = spawn(taskset, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString()
    })
    child.stderr.on('data', (c: Buffer) => {
      out += c.toString()
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), (run.durationS + run.warmupS + 30) * 1000)
    child.once('error', reject)
    child.once('close', (code) => {
      clearTimeout(timer)
      try {
        if (code !== 0) throw new Error(`h2load exited ${code}:\n${out.slice(-1500)}`)
        resolve(parseH2loadOutput(out))
      } catch (err) {
        reject(err)
      }
    })
  })
}

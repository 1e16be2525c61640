import { spawnSync } from 'node:child_process'
import { accessSync, constants, existsSync, readFileSync } from 'node:fs'
import { delimiter, join } from 'node:path'

/** Absolute paths of the outside tools the benchmark drives. */
export interface Tools {
  wrk: string
  nginx: string
  taskset: string
}

/** Which CPU each side runs on, as `taskset -c` lists. */
export interface CpuPlan {
  /** The proxy under test. */
  proxy: string
  /** wrk, the nginx backend and this orchestrator. */
  load: string
  /** Both, for the multi-process gateway. */
  both: string
  /** Set when the machine could not give the proxy a core of its own. */
  warning?: string
}

const debianPackage: Record<keyof Tools, string> = { wrk: 'wrk', nginx: 'nginx-light', taskset: 'util-linux' }

function findExecutable(name: string): string | undefined {
  // nginx lives in /usr/sbin, which a normal user's PATH on Debian does not include.
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin']
  for (const dir of dirs.filter(Boolean)) {
    const path = join(dir, name)
    try {
      accessSync(path, constants.X_OK)
      return path
    } catch {}
  }
  return undefined
}

/** Finds wrk, nginx and taskset, or throws naming the Debian packages to install. Installs nothing. */
export function findTools(): Tools {
  if (!existsSync('/proc/self/status')) throw new Error('the benchmark needs Linux (/proc for RSS, taskset for pinning)')
  const names = Object.keys(debianPackage) as (keyof Tools)[]
  const found = Object.fromEntries(names.map((n) => [n, findExecutable(n)]))
  const missing = names.filter((n) => found[n] === undefined)
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map((n) => debianPackage[n]))].join(' ')
    throw new Error(`missing ${missing.join(', ')}: install them with\n  sudo apt-get install -y ${pkgs}`)
  }
  return found as unknown as Tools
}

/** Expands a kernel CPU list such as "0-3,6" into CPU numbers. */
export function parseCpuList(list: string): number[] {
  const cpus: number[] = []
  for (const part of list.trim().split(',').filter(Boolean)) {
    const [from, to] = part.split('-').map(Number)
    if (from === undefined || Number.isNaN(from)) continue
    for (let cpu = from; cpu <= (to ?? from); cpu++) cpus.push(cpu)
  }
  return cpus
}

/** Proxy on the first CPU this process may use, load on the second (core 0 and 1 on a plain machine). */
export function planCpus(): CpuPlan {
  const status = readFileSync('/proc/self/status', 'utf8')
  const allowed = parseCpuList(/^Cpus_allowed_list:\s*(.+)$/m.exec(status)?.[1] ?? '0')
  const proxy = String(allowed[0] ?? 0)
  if (allowed.length < 2) {
    return { proxy, load: proxy, both: proxy, warning: 'only one CPU available: proxy, wrk and backend share it' }
  }
  const load = String(allowed[1])
  return { proxy, load, both: `${proxy},${load}` }
}

/** Pins this orchestrator (all its threads) to `cpus`, so its timers and /proc reads stay off the proxy's core. */
export function pinSelf(tools: Tools, cpus: string): void {
  const r = spawnSync(tools.taskset, ['-a', '-p', '-c', cpus, String(process.pid)], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`taskset could not pin the benchmark to CPU ${cpus}: ${r.stderr.trim()}`)
}

/** First line of `command args` output (stdout or stderr), for the report header. */
export function toolVersion(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 5000 })
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] ?? 'unknown'
}

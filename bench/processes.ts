import { type ChildProcess, spawn } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'

/**
 * A process started by the benchmark. It leads its own process group, so stopping it by
 * its PID also reaches what it started: nginx workers, gateway workers, and the real node
 * process behind the pnpm `.bin` shell shims (which run node as a child, not with exec).
 */
export interface BenchProcess {
  readonly name: string
  readonly pid: number
  readonly child: ChildProcess
  /** stdout and stderr so far (the last ~100 kB). */
  output(): string
  /** True once the group leader has exited. */
  hasExited(): boolean
  /** Resolves with the leader's exit code once it has exited and its output is complete. */
  readonly finished: Promise<number | null>
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves when the group is gone or given up on. */
  stop(graceMs?: number): Promise<void>
}

const running = new Set<BenchProcess>()

function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal)
    return true
  } catch {
    return false
  }
}

async function waitGroupGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (!signalGroup(pid, 0)) return true
    await sleep(25)
  }
  return !signalGroup(pid, 0)
}

/** Spawns `command args` as the leader of a new process group and tracks it until stopped. */
export function startProcess(
  name: string,
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): BenchProcess {
  interruption.throwIfAborted()
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`)
  const pid = child.pid
  let out = ''
  const keep = (chunk: Buffer) => {
    out += chunk.toString()
    if (out.length > 200_000) out = out.slice(-100_000)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  child.on('error', (err) => keep(Buffer.from(`\n[spawn error] ${err.message}\n`)))
  // 'close' rather than 'exit': it comes after stdout and stderr are drained.
  const finished = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)))
  const handle: BenchProcess = {
    name,
    pid,
    child,
    output: () => out,
    hasExited: () => child.exitCode !== null || child.signalCode !== null,
    finished,
    async stop(graceMs = 5000) {
      running.delete(handle)
      signalGroup(pid, 'SIGTERM')
      if (!(await waitGroupGone(pid, graceMs))) {
        signalGroup(pid, 'SIGKILL')
        await waitGroupGone(pid, 2000)
      }
    },
  }
  running.add(handle)
  return handle
}

/** Stops every process still tracked, all in parallel. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()))
}

const interrupted = new AbortController()

/** Aborted once Ctrl-C, SIGTERM or SIGHUP arrives: from then on no process may start. */
export const interruption: AbortSignal = interrupted.signal

/**
 * Makes Ctrl-C, SIGTERM, SIGHUP, an uncaught error or a plain exit stop every started
 * process by its group id. The children live in their own groups, so the terminal's
 * Ctrl-C does not reach them: this is what stops them. The caller sees `interruption`
 * aborted and unwinds (its `finally` blocks remove temp files); 10 s later the process
 * exits regardless.
 */
export function stopEverythingOnExit(): void {
  process.once('exit', () => {
    for (const p of running) signalGroup(p.pid, 'SIGKILL')
  })
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    // `on`, not `once`: a second Ctrl-C must not kill us before the children are stopped.
    process.on(signal, () => {
      if (interrupted.signal.aborted) return
      process.stderr.write(`\n${signal}: stopping ${running.size} process(es)\n`)
      interrupted.abort(new Error(`interrupted by ${signal}`))
      setTimeout(() => process.exit(130), 10_000).unref()
      void stopAll()
    })
  }
}

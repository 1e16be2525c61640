import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'

/** A child process started by a test, with its output kept for failure messages. */
export interface TestProcess {
  readonly pid: number
  readonly child: ChildProcess
  /** stdout and stderr so far. */
  output(): string
  /** SIGTERM by PID, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>
}

const running = new Set<TestProcess>()
process.once('exit', () => {
  for (const p of running) {
    try {
      process.kill(p.pid, 'SIGKILL')
    } catch {}
  }
})

/** Spawns `command` with `args`; the process is killed when the test process exits, whatever happens. */
export function startProcess(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): TestProcess {
  const child = spawn(command, args, { env: { ...process.env, ...options.env }, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const keep = (chunk: Buffer) => {
    out += chunk.toString()
    if (out.length > 200_000) out = out.slice(-100_000)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  if (child.pid === undefined) throw new Error(`could not start ${command}`)
  const handle: TestProcess = {
    pid: child.pid,
    child,
    output: () => out,
    async stop(graceMs = 5000) {
      running.delete(handle)
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
      const exited = once(child, 'exit')
      try {
        process.kill(child.pid as number, 'SIGTERM')
      } catch {}
      const timer = setTimeout(() => {
        try {
          process.kill(child.pid as number, 'SIGKILL')
        } catch {}
      }, graceMs)
      await exited
      clearTimeout(timer)
      return child.exitCode
    },
  }
  running.add(handle)
  return handle
}

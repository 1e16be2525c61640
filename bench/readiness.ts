import { setTimeout as sleep } from 'node:timers/promises'
import type { BenchProcess } from './processes.ts'

function outputTail(proc: BenchProcess): string {
  const out = proc.output().trim()
  return out ? `\n--- ${proc.name} output (tail) ---\n${out.slice(-2000)}` : ''
}

/**
 * Resolves once GET `url` answers 200. Fails at once when the process exits (a target
 * that does not exist yet, a bad flag) and after `timeoutMs` otherwise, with the output tail.
 */
export async function waitUntilServing(proc: BenchProcess, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = 'no answer yet'
  while (Date.now() < deadline) {
    if (proc.hasExited()) {
      throw new Error(`${proc.name} exited (code ${proc.child.exitCode ?? proc.child.signalCode}) before serving ${url}${outputTail(proc)}`)
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) })
      await res.arrayBuffer()
      if (res.status === 200) return
      last = `status ${res.status}`
    } catch (err) {
      last = (err as Error).message
    }
    await sleep(100)
  }
  throw new Error(`${proc.name} did not serve ${url} within ${timeoutMs} ms (${last})${outputTail(proc)}`)
}

import cluster from 'node:cluster'
import type { Logger } from 'pino'

/** What a worker sends its supervisor once it serves (see signalWorkerReady). */
const READY = 'fleetgate-worker-ready'
/** A worker that dies is restarted after this long, doubled for each death since its slot last served... */
const FIRST_RESTART_MS = 500
/** ...up to this. */
const MAX_RESTART_MS = 30_000

/**
 * Runs `count` worker processes of this same command and supervises them: signals are passed
 * on (SIGHUP reloads each, SIGTERM drains each), and a worker that dies is restarted with a
 * backoff. A worker that dies before the first start of all of them ends (a listen address in
 * use, say) stops the others instead: the command then fails with exit code 1 as a single
 * process would, rather than restarting forever while nothing serves. Resolves with the exit
 * code once every worker has exited.
 */
export function superviseWorkers(count: number, logger: Logger): Promise<number> {
  let stopping = false
  let exitCode = 0
  let started = false
  const slots = new Map<number, { id: number; ready: boolean }>()
  const deaths = new Map<number, number>()
  const fork = (id: number) => {
    const worker = cluster.fork({ FLEETGATE_WORKER_ID: String(id), FLEETGATE_WORKER_COUNT: String(count) })
    const slot = { id, ready: false }
    slots.set(worker.id, slot)
    worker.on('message', (message: unknown) => {
      if ((message as { type?: string } | null)?.type !== READY) return
      slot.ready = true
      deaths.set(id, 0)
      if (!started && [...slots.values()].every((s) => s.ready)) started = true
    })
  }
  for (let id = 1; id <= count; id++) fork(id)
  const broadcast = (signal: NodeJS.Signals) => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal)
  }
  process.on('SIGHUP', () => broadcast('SIGHUP'))
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return
      stopping = true
      broadcast(signal)
      const check = setInterval(() => {
        if (Object.keys(cluster.workers ?? {}).length === 0) {
          clearInterval(check)
          resolve(exitCode)
        }
      }, 50)
    }
    cluster.on('exit', (worker, code, signal) => {
      const slot = slots.get(worker.id)
      slots.delete(worker.id)
      if (stopping || slot === undefined) return
      if (!started && !slot.ready) {
        logger.error({ worker: slot.id, code, signal }, 'a worker failed to start; stopping the others')
        exitCode = 1
        stop('SIGTERM')
        return
      }
      const died = (deaths.get(slot.id) ?? 0) + 1
      deaths.set(slot.id, died)
      const delay = Math.min(FIRST_RESTART_MS * 2 ** (died - 1), MAX_RESTART_MS)
      logger.error({ worker: slot.id, code, signal, restartInMs: delay }, 'worker exited; restarting it')
      setTimeout(() => {
        if (!stopping) fork(slot.id)
      }, delay).unref()
    })
    process.on('SIGTERM', () => stop('SIGTERM'))
    process.on('SIGINT', () => stop('SIGTERM'))
  })
}

/** Tells the supervisor (when this process is a worker) that it serves. */
export function signalWorkerReady(): void {
  if (cluster.isWorker) process.send?.({ type: READY })
}

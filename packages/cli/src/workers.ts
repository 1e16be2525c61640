import cluster from 'node:cluster'
import type { Logger } from 'pino'

/**
 * Runs `count` worker processes of this same command and supervises them: signals are passed
 * on (SIGHUP reloads each, SIGTERM drains each), and a worker that dies unexpectedly is
 * restarted. Resolves when every worker has exited after a shutdown.
 */
export function superviseWorkers(count: number, logger: Logger): Promise<void> {
  let stopping = false
  const fork = (id: number) => cluster.fork({ FLEETGATE_WORKER_ID: String(id), FLEETGATE_WORKER_COUNT: String(count) })
  const ids = new Map<number, number>()
  for (let id = 1; id <= count; id++) ids.set(fork(id).id, id)
  cluster.on('exit', (worker, code, signal) => {
    const id = ids.get(worker.id) ?? 0
    ids.delete(worker.id)
    if (stopping) return
    logger.error({ worker: id, code, signal }, 'worker exited; restarting it')
    setTimeout(() => ids.set(fork(id).id, id), 500)
  })
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
          resolve()
        }
      }, 50)
    }
    process.on('SIGTERM', () => stop('SIGTERM'))
    process.on('SIGINT', () => stop('SIGTERM'))
  })
}

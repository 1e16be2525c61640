import type { Logger } from 'pino'

/** Resolves after the first SIGTERM/SIGINT has run `stop` (a second signal exits at once). */
export function onShutdown(logger: Logger, stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false
    const handler = (signal: string) => {
      if (stopping) process.exit(1)
      stopping = true
      logger.info({ signal }, 'shutting down: draining in-flight requests')
      stop().then(
        () => resolve(),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed')
          resolve()
        },
      )
    }
    process.on('SIGTERM', handler)
    process.on('SIGINT', handler)
  })
}

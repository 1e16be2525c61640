import type { TracingConfig } from '@fleetgate/schema'
import type { Logger } from 'pino'
import type { Tracing } from './tracer.ts'

/** Follows `[tracing]` across config reloads; see createTracingSwitch. */
export interface TracingSwitch {
  /**
   * Brings tracing in line with `config`: nothing when it is unchanged, else a new provider (or
   * none) and a flush of the old one. Resolves with the tracing new requests use.
   */
  apply(config: TracingConfig): Promise<Tracing | undefined> | undefined
  /** Flushes and stops the current provider. */
  shutdown(): Promise<void>
}

/**
 * Tracing is off unless `[tracing] endpoint` is set, and then costs nothing: the OpenTelemetry
 * SDK is imported (dynamically) the first time a config turns it on, never before.
 */
export function createTracingSwitch(logger: Logger): TracingSwitch {
  let current: Tracing | undefined
  let key = ''
  return {
    apply(config) {
      const next = config.endpoint === undefined ? '' : JSON.stringify([config.endpoint, config.service_name, config.sampling_ratio])
      if (next === key) return undefined
      const previous = current
      const endpoint = config.endpoint
      const created =
        endpoint === undefined
          ? Promise.resolve(undefined)
          : import('./tracer.ts').then(({ createTracing }) => createTracing({ ...config, endpoint }, logger))
      return created.then((tracing) => {
        key = next
        current = tracing
        if (previous !== undefined) previous.shutdown().catch((err: unknown) => logger.warn({ err }, 'tracing: flush failed'))
        logger.info({ endpoint, sampling_ratio: config.sampling_ratio }, tracing ? 'tracing on' : 'tracing off')
        return tracing
      })
    },
    async shutdown() {
      const tracing = current
      current = undefined
      key = ''
      await tracing?.shutdown()
    },
  }
}

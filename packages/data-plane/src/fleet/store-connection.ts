import type { Logger } from 'pino'
import type { Gauge } from 'prom-client'

/**
 * Whether the store answered the last call this node made (reads, watch events, status writes).
 * Every caller reports outcomes here; the state change is logged once, not once per retry.
 */
export interface StoreConnection {
  /** False until the first successful call, and after any failed one until the next success. */
  readonly connected: boolean
  ok(): void
  failed(err: unknown): void
  /** Called on each change of `connected`. */
  onChange(listener: (connected: boolean) => void): void
}

/** Creates the tracker; `gauge` is `fleetgate_store_connected` (1 or 0). */
export function createStoreConnection(logger: Logger, gauge: Gauge): StoreConnection {
  let state: boolean | undefined
  const listeners: Array<(connected: boolean) => void> = []
  gauge.set(0)
  const set = (next: boolean, err?: unknown) => {
    if (state === next) return
    const first = state === undefined
    state = next
    gauge.set(next ? 1 : 0)
    if (next) logger.info(first ? 'config store connected' : 'config store reachable again')
    else logger.warn({ err }, 'config store unreachable: serving the applied config, retrying in the background')
    for (const listener of listeners) listener(next)
  }
  return {
    get connected() {
      return state === true
    },
    ok: () => set(true),
    failed: (err) => set(false, err),
    onChange(listener) {
      listeners.push(listener)
    },
  }
}

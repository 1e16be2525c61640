import type { IncomingMessage } from 'node:http'

/** Key of the request's start time (performance.now()), set by the observability's start(). */
export const kRequestStart = Symbol('fleetgate.start')

/** When the request started (performance.now()); now when nothing marked it (no observability). */
export function requestStart(req: IncomingMessage): number {
  return (req as IncomingMessage & { [kRequestStart]?: number })[kRequestStart] ?? performance.now()
}

import type { ServerResponse } from 'node:http'
import { ERROR_CODES } from '../errors.ts'
import type { ForwardOutcome } from './forward.ts'

/**
 * True when the client's connection (or HTTP/2 stream) is gone, so nothing can be answered: a
 * request ending so is recorded as 499 CLIENT_CLOSED, never as a client or backend error.
 */
export function isClientGone(res: ServerResponse): boolean {
  // Http2ServerResponse has no `destroyed` of its own: its stream tells.
  return res.destroyed || (res as { stream?: { destroyed: boolean } }).stream?.destroyed === true
}

/** The outcome of a request whose client left before it was forwarded (a body read, a plugin's wait). */
export function clientClosed(cause: unknown): ForwardOutcome {
  return { status: ERROR_CODES.CLIENT_CLOSED.status, backend: undefined, attempts: 0, error: 'CLIENT_CLOSED', cause }
}

import type { ServerResponse } from 'node:http'

/**
 * True when the client's connection (or HTTP/2 stream) is gone, so nothing can be answered: a
 * request ending so is recorded as 499 CLIENT_CLOSED, never as a client or backend error.
 */
export function isClientGone(res: ServerResponse): boolean {
  // Http2ServerResponse has no `destroyed` of its own: its stream tells.
  return res.destroyed || (res as { stream?: { destroyed: boolean } }).stream?.destroyed === true
}

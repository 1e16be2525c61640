import { constants as h2, type ServerHttp2Session, type Settings } from 'node:http2'
import type { ServerRuntime } from './snapshot.ts'

// The policy of a client HTTP/2 session: its settings, its rapid-reset guard and its idle close.

/** Most header fields nghttp2 accepts in one request (the extra 8: pseudo-header fields). */
export const maxHeaderPairs = (rt: ServerRuntime) => rt.maxHeaders + 8

export function h2Settings(rt: ServerRuntime): Settings {
  return {
    maxConcurrentStreams: rt.config.h2_max_concurrent_streams,
    // nghttp2 resets (no 431) a stream whose header list, counted with 32 octets a field on top
    // (RFC 9113 6.5.2), is over this, and only once the client acknowledged it: the first requests
    // of a session are not held to it at all. max_header_size itself is checked on each request
    // (handler.ts); this is a backstop set well above it, so that a head the gateway
    // admits is never reset and one a little too big gets the 431.
    maxHeaderListSize: Math.min(2 * rt.maxHeaderSize + 32 * maxHeaderPairs(rt), 2 ** 32 - 1),
    // RFC 8441: WebSocket over HTTP/2 (extended CONNECT).
    enableConnectProtocol: true,
  }
}

/** Per-connection HTTP/2 guard: closes a session whose client resets streams faster than allowed (rapid reset). */
export function guardSession(session: ServerHttp2Session, limits: { resetsPerSecond: number; idleMs: number }): void {
  let windowStart = 0
  let resets = 0
  let refused = false
  session.on('stream', (stream) => {
    stream.once('aborted', () => {
      const now = performance.now()
      if (now - windowStart > 1000) {
        windowStart = now
        resets = 0
      }
      if (++resets > limits.resetsPerSecond && !refused && !session.closed) {
        refused = true
        // GOAWAY alone (nghttp2 refuses new streams from then on), and the connection torn down a
        // moment later. Destroyed at once, the socket closed before the frame was flushed; and
        // session.close() with no stream open destroys at once too, sending its own GOAWAY
        // (NO_ERROR or INTERNAL_ERROR) that could reach the client first: it never learnt why.
        session.goaway(h2.NGHTTP2_ENHANCE_YOUR_CALM)
        setTimeout(() => session.destroy(), 1000).unref()
      }
    })
  })
  // An idle session is closed gracefully: streams still open (a long gRPC stream) may finish.
  session.setTimeout(limits.idleMs, () => session.close())
  session.once('close', () => clearTimeout(idleTimerOf(session)))
  session.on('error', () => {})
}

/**
 * The idle timer `session.setTimeout` armed. Node (24.21) leaves it armed when the session is
 * destroyed, and `setTimeout(0)` does nothing on a destroyed session, so every closed session
 * stayed reachable from the timer list until its idle time (keepalive_timeout, 60 s) ran out.
 * Node keeps the timer under a symbol described "timeout"; undefined if that ever changes.
 */
function idleTimerOf(session: ServerHttp2Session): NodeJS.Timeout | undefined {
  const key = Object.getOwnPropertySymbols(session).find((symbol) => symbol.description === 'timeout')
  return key === undefined ? undefined : (session as unknown as Record<symbol, NodeJS.Timeout | undefined>)[key]
}

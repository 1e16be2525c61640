import type { IncomingMessage, ServerResponse } from 'node:http'
import type { BlockList, Socket } from 'node:net'
import type { ForwardOutcome } from '../../proxy/forward.ts'

/** One finished request as the access-log variables read it; built only when a server logs. */
export interface LogEntry {
  req: IncomingMessage
  res: ServerResponse
  /**
   * The client connection, taken when the request started: by the time the line is written,
   * Node may have let go of `req.socket` (null once a request with a body has ended).
   */
  socket: Socket
  server: string
  location: string | undefined
  upstream: string | undefined
  outcome: ForwardOutcome
  /** performance.now() when the request head was parsed, and when it ended. */
  startedAt: number
  endedAt: number
  /** Wall-clock time of the end, in ms since the epoch. */
  wallClock: number
  /** The snapshot's trusted proxies, to resolve the client address like the proxy did. */
  trustedProxies: BlockList | undefined
}

/** A variable's value: a string, a number, or undefined when it does not apply ("-" or null). */
export type LogValue = string | number | undefined

/** Reads one variable from an entry. */
export type LogGetter = (e: LogEntry) => LogValue

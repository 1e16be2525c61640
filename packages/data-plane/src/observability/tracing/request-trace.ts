import type { IncomingMessage } from 'node:http'
import type { ErrorCode } from '../../errors.ts'
import type { ForwardOutcome } from '../../proxy/forward.ts'
import type { Backend } from '../../upstream/types.ts'

/**
 * The trace of one client request: its server span and the client span of the current upstream
 * attempt. It exists only when `[tracing]` is configured (see tracer.ts), so this file imports
 * nothing from OpenTelemetry: the proxy reads `traceOf(req)` and does nothing more when it is
 * undefined.
 */
export interface RequestTrace {
  /**
   * Starts the client span of one upstream attempt (a retry is a new attempt) and returns the
   * upstream request headers with this span's `traceparent` (and the client's `tracestate`):
   * `headers` itself, changed, or a new list.
   */
  attemptStart(headers: string[], backend: Backend, upstream: string, attempt: number): string[]
  /** Ends the current attempt's span, if one is open; `status` is the upstream's answer. */
  attemptEnd(error: ErrorCode | undefined, status: number | undefined): void
  /** Names and ends the server span once the request is over. */
  end(location: string | undefined, upstream: string | undefined, outcome: ForwardOutcome): void
}

const kTrace = Symbol('fleetgate.trace')
type TracedRequest = IncomingMessage & { [kTrace]?: RequestTrace }

/** The request's trace, or undefined when tracing is off or the request started before it was on. */
export function traceOf(req: IncomingMessage): RequestTrace | undefined {
  return (req as TracedRequest)[kTrace]
}

/** Attaches a trace to its request (tracer.ts, at the start of the request). */
export function attachTrace(req: IncomingMessage, trace: RequestTrace): void {
  ;(req as TracedRequest)[kTrace] = trace
}

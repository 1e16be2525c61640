import { subscribe } from 'node:diagnostics_channel'

/** Told, once its request is written, whether the upstream connection had carried requests before. */
export interface ReuseListener {
  onConnectionKnown(reused: boolean): void
}

/** What a dispatcher of ours (h2-dispatcher.ts) passes as the second argument of onConnect. */
export interface ConnectContext {
  reused?: boolean
}

/**
 * Whether a request went out on a fresh or a reused upstream connection (`{upstream_reused}`).
 *
 * undici does not tell a request which socket carries it, but its HTTP/1.1 writer calls the
 * handler's onConnect and then publishes `undici:client:sendHeaders` ({request, socket}) in the
 * same synchronous run. So the exchange registers itself in onConnect, and the channel's
 * subscriber hands it the socket's verdict: reused when the socket has sent a request before.
 * Sockets are counted in a WeakMap, so closed ones are forgotten with them.
 *
 * Off until an access-log format asks for the variable: subscribing makes undici build one
 * message object per request, a cost no one should pay for a variable they do not log.
 */
let tracking = false
let waiting: ReuseListener | undefined
const sentOn = new WeakMap<object, number>()

function onSendHeaders(message: unknown): void {
  const socket = (message as { socket?: object }).socket
  const listener = waiting
  waiting = undefined
  if (socket === undefined) return
  const sent = sentOn.get(socket) ?? 0
  sentOn.set(socket, sent + 1)
  listener?.onConnectionKnown(sent > 0)
}

/** Starts tracking (idempotent, for the life of the process): called when a log format uses `{upstream_reused}`. */
export function trackConnectionReuse(): void {
  if (tracking) return
  tracking = true
  subscribe('undici:client:sendHeaders', onSendHeaders)
}

/**
 * Called from a handler's onConnect: the verdict comes from the context when the dispatcher
 * gives one (our HTTP/2 sessions), else from the socket undici writes the request on next.
 */
export function awaitConnection(listener: ReuseListener, context: ConnectContext | undefined): void {
  if (context?.reused !== undefined) listener.onConnectionKnown(context.reused)
  else if (tracking) waiting = listener
}

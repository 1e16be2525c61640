import type { Duplex, Readable, Writable } from 'node:stream'

/**
 * One end of a tunnel. For a socket the three are the same object; for an HTTP/2 stream seen
 * through Node's compatibility API the bytes are read from the request (which owns the
 * stream's flow control) and written to the stream itself.
 */
export interface TunnelSide {
  readonly input: Readable
  readonly output: Writable
  /** The connection or stream whose 'close' means this side is gone. */
  readonly stream: Duplex
}

/** How a tunnel ended, for metrics and access logs. */
export interface TunnelEnd {
  /** Bytes relayed client -> upstream and upstream -> client. */
  toUpstream: number
  toClient: number
  /** closed: both sides closed (cleanly or not); idle: the idle timeout fired; error: a side failed. */
  reason: 'closed' | 'idle' | 'error'
  error: Error | undefined
}

/** After one side closed cleanly, the other gets this long to flush and close before it is destroyed. */
const LINGER_MS = 5_000

/**
 * Relays bytes both ways between `client` and `upstream` with backpressure (pipe pauses a
 * reader whose writer is full). An end of stream is passed on as a half-close, so a WebSocket
 * close frame followed by FIN reaches the other side intact; a side that vanishes (reset,
 * error) takes the other one down at once. With `idleMs > 0`, a tunnel with no byte in
 * either direction for that long is closed. `onEnd` is called exactly once, after both
 * sides are destroyed.
 */
export function openTunnel(client: TunnelSide, upstream: TunnelSide, idleMs: number, onEnd: (end: TunnelEnd) => void): void {
  const end: TunnelEnd = { toUpstream: 0, toClient: 0, reason: 'closed', error: undefined }
  let done = false
  let open = 2
  let linger: NodeJS.Timeout | undefined
  const idle = idleMs > 0 ? setTimeout(() => finish('idle', undefined), idleMs) : undefined

  const finish = (reason: TunnelEnd['reason'], error: Error | undefined) => {
    if (done) return
    done = true
    clearTimeout(idle)
    clearTimeout(linger)
    client.stream.destroy()
    upstream.stream.destroy()
    end.reason = reason
    end.error = error
    onEnd(end)
  }
  const onClose = (side: TunnelSide) => () => {
    if (--open === 0 || !side.input.readableEnded) {
      // Both gone, or this one vanished without an end of stream: nothing more can be relayed.
      finish('closed', undefined)
      return
    }
    linger ??= setTimeout(() => finish('closed', undefined), LINGER_MS)
  }
  const onError = (err: Error) => finish('error', err)

  client.input.on('data', (chunk: Buffer) => {
    end.toUpstream += chunk.length
    idle?.refresh()
  })
  upstream.input.on('data', (chunk: Buffer) => {
    end.toClient += chunk.length
    idle?.refresh()
  })
  for (const side of [client, upstream]) {
    side.stream.once('close', onClose(side))
    side.stream.on('error', onError)
    if (side.input !== side.stream) side.input.on('error', onError)
  }
  client.input.pipe(upstream.output)
  upstream.input.pipe(client.output)
}

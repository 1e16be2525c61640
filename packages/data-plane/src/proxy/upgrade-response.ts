import { type IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

/**
 * The response to an HTTP/1.1 `Upgrade: websocket` request: a ServerResponse on the socket
 * Node handed over, so plugin replies, gateway errors and upstream refusals are written like
 * any other response (and the connection is closed after them).
 */
export class UpgradeResponse extends ServerResponse {
  /** The client connection, and the bytes it sent after the request head. */
  readonly clientSocket: Socket
  readonly head: Buffer
  constructor(req: IncomingMessage, socket: Socket, head: Buffer) {
    super(req)
    this.clientSocket = socket
    this.head = head
    this.shouldKeepAlive = false
    this.assignSocket(socket)
    // Node removes its own error listener from an upgraded socket: without one, a client reset would crash the process.
    socket.on('error', () => socket.destroy())
    this.once('finish', () => socket.end(() => socket.destroy()))
  }
}

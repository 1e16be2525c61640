import { createHash } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { UpgradeResponse } from './upgrade-response.ts'

/** True for an HTTP/2 extended CONNECT opening a WebSocket (RFC 8441). */
export function isWebSocketConnect(req: IncomingMessage): boolean {
  return req.method === 'CONNECT' && (req.headers[':protocol'] as string | undefined)?.toLowerCase() === 'websocket'
}

/** True when `req` asks for a WebSocket: an HTTP/1.1 Upgrade (its response is an UpgradeResponse) or an RFC 8441 CONNECT. */
export function isWebSocketHandshake(req: IncomingMessage, res: ServerResponse): boolean {
  return res instanceof UpgradeResponse || isWebSocketConnect(req)
}

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

/** The Sec-WebSocket-Accept answering `key` (RFC 6455 section 4.2.2). */
export function websocketAccept(key: string): string {
  return createHash('sha1')
    .update(key + WS_GUID)
    .digest('base64')
}

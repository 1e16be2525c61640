import type { IncomingMessage } from 'node:http'
import type { RouteRequest } from '../router/types.ts'
import { normalizeRequestPath } from './normalize-path.ts'
import { requestHost } from './request-headers.ts'
import { isWebSocketConnect } from './websocket-handshake.ts'

/**
 * Host, normalized path (see normalizeRequestPath: the path routed, shown to plugins and sent
 * upstream), raw query and method of a request; undefined (400) when its target is malformed
 * or its path holds an encoded "/" or "\" or a raw "\".
 */
export function toRouteRequest(req: IncomingMessage, keepEncodedSlashes: boolean): RouteRequest | undefined {
  let target = req.url ?? ''
  if (target.charCodeAt(0) !== 47 /* / */) {
    if (!/^https?:\/\//i.test(target)) return undefined
    try {
      const url = new URL(target)
      // RFC 9112 section 3.2.2: the target's authority is the host. It must be the Host line's
      // too, since routing and the upstream's Host both read that one.
      if (!sameAuthority(url, requestHost(req))) return undefined
      target = url.pathname + url.search
    } catch {
      return undefined
    }
  }
  const q = target.indexOf('?')
  const path = normalizeRequestPath(q < 0 ? target : target.slice(0, q), keepEncodedSlashes)
  if (path === undefined) return undefined
  return {
    host: hostOnly(requestHost(req)),
    path,
    query: q < 0 ? '' : target.slice(q + 1),
    // An RFC 8441 CONNECT is the HTTP/2 form of a WebSocket GET: routed (methods = ["GET"]) as one.
    method: isWebSocketConnect(req) ? 'GET' : (req.method as string),
    headers: req.headers,
  }
}

function hostOnly(host: string | undefined): string {
  if (host === undefined) return ''
  if (host.charCodeAt(0) === 91 /* [ */) {
    const end = host.indexOf(']')
    return host.slice(0, end + 1).toLowerCase()
  }
  const colon = host.indexOf(':')
  return (colon < 0 ? host : host.slice(0, colon)).toLowerCase()
}

/** Whether a Host line names the authority of an absolute-form target (a default port may be spelt out). */
function sameAuthority(url: URL, host: string | undefined): boolean {
  if (host === undefined) return false
  const lower = host.toLowerCase()
  if (lower === url.host) return true
  return url.port === '' && lower === `${url.hostname}:${url.protocol === 'https:' ? 443 : 80}`
}

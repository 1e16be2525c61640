/**
 * Headers the gateway never forwards: the hop-by-hop ones of RFC 9110 section 7.6.1,
 * HTTP2-Settings (which only means something on an `Upgrade: h2c` request, RFC 7540 section
 * 3.2.1), and Expect: the client's `100-continue` is answered by the gateway's own Node server
 * (RFC 9110 section 10.1.1 lets a proxy do so; any other expectation gets a 417 there), and
 * undici refuses to send the header at all. Proxy-Authorization too: it is meant for a proxy
 * that asked for it (RFC 9110 section 11.7.2), never for the origin behind this gateway.
 */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'transfer-encoding',
  'upgrade',
  'trailer',
  'http2-settings',
  'expect',
  'proxy-authorization',
])

/** Extra hop-by-hop names a sender listed in its Connection header (lower-case), or undefined. */
export function connectionTokens(connection: string | undefined): Set<string> | undefined {
  if (connection === undefined) return undefined
  let tokens: Set<string> | undefined
  for (const part of connection.split(',')) {
    const token = part.trim().toLowerCase()
    if (token === '' || token === 'close' || token === 'keep-alive') continue
    tokens ??= new Set()
    tokens.add(token)
  }
  return tokens
}

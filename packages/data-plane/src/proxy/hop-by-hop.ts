/**
 * Hop-by-hop headers of RFC 9110 section 7.6.1 (and HTTP2-Settings, which only means something
 * on an `Upgrade: h2c` request, RFC 7540 section 3.2.1): never forwarded by a proxy.
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

import { type BlockList, isIP } from 'node:net'

/** The socket peer's address, an IPv4-mapped IPv6 address ("::ffff:10.0.0.1") as plain IPv4. */
export function peerAddress(socket: { readonly remoteAddress?: string | undefined }): string {
  const addr = socket.remoteAddress ?? ''
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr
}

/**
 * The client address: the socket peer, unless the peer is a trusted proxy, in which case the
 * right-most X-Forwarded-For entry that is not itself trusted. Entries may carry a port
 * ("10.1.1.1:1234", "[2001:db8::1]:443"); the address without it is returned.
 *
 * An entry that is not an IP address ends the walk and the peer is the client. Every entry to
 * its right was a trusted proxy, so no untrusted address has been seen yet; the entries to its
 * left are whatever the client chose to send (it could write "8.8.8.8, garbage" to hide behind
 * 8.8.8.8), so they are never taken. The peer is what a request without the header resolves to.
 */
export function resolveClientIp(peer: string, forwardedFor: string | undefined, trusted: BlockList | undefined): string {
  if (trusted === undefined || forwardedFor === undefined || !isTrusted(trusted, peer)) return peer
  const hops = forwardedFor.split(',')
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hopAddress(hops[i] as string)
    if (hop === undefined) return peer
    if (!isTrusted(trusted, hop)) return hop
  }
  return peer
}

/** One X-Forwarded-For entry as a bare IP address (spaces and a port stripped), or undefined when it is none. */
function hopAddress(entry: string): string | undefined {
  let hop = entry.trim()
  if (hop.charCodeAt(0) === 91 /* [ */) {
    const close = hop.indexOf(']')
    if (close < 0) return undefined
    // "[v6]" alone, or "[v6]:port".
    if (close + 1 < hop.length && (hop.charCodeAt(close + 1) !== 58 || !isPort(hop, close + 2))) return undefined
    hop = hop.slice(1, close)
    return isIP(hop) === 6 ? hop : undefined
  }
  const colon = hop.indexOf(':')
  // One colon: IPv4 with a port. Several: IPv6 (its own colons), taken as it is.
  if (colon >= 0 && hop.indexOf(':', colon + 1) < 0) {
    if (!isPort(hop, colon + 1)) return undefined
    hop = hop.slice(0, colon)
    return isIP(hop) === 4 ? hop : undefined
  }
  return isIP(hop) === 0 ? undefined : hop
}

/** True when text[from..] is 1 to 5 digits. */
function isPort(text: string, from: number): boolean {
  const length = text.length - from
  if (length < 1 || length > 5) return false
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 48 || c > 57) return false
  }
  return true
}

/** True when `ip` is inside the trusted list (IPv4-mapped IPv6 peers are checked as IPv4). */
export function isTrusted(trusted: BlockList, ip: string): boolean {
  if (ip.startsWith('::ffff:') && ip.includes('.')) return trusted.check(ip.slice(7), 'ipv4')
  return trusted.check(ip, ip.includes(':') ? 'ipv6' : 'ipv4')
}

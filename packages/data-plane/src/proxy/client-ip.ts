import { type BlockList, isIP } from 'node:net'
import { authorityHost } from './authority.ts'

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

/** One X-Forwarded-For entry as a bare IP address (spaces, brackets and a port stripped), or undefined when it is none. */
function hopAddress(entry: string): string | undefined {
  const host = authorityHost(entry.trim())
  if (host === undefined) return undefined
  const ip = host.charCodeAt(0) === 91 /* [ */ ? host.slice(1, -1) : host
  return isIP(ip) === 0 ? undefined : ip
}

/** True when `ip` is inside the trusted list (IPv4-mapped IPv6 peers are checked as IPv4). */
export function isTrusted(trusted: BlockList, ip: string): boolean {
  if (ip.startsWith('::ffff:') && ip.includes('.')) return trusted.check(ip.slice(7), 'ipv4')
  return trusted.check(ip, ip.includes(':') ? 'ipv6' : 'ipv4')
}

import type { BlockList } from 'node:net'

/** The socket peer's address, an IPv4-mapped IPv6 address ("::ffff:10.0.0.1") as plain IPv4. */
export function peerAddress(socket: { readonly remoteAddress?: string | undefined }): string {
  const addr = socket.remoteAddress ?? ''
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr
}

/**
 * The client address: the socket peer, unless the peer is a trusted proxy, in which case the
 * right-most X-Forwarded-For entry that is not itself trusted.
 */
export function resolveClientIp(peer: string, forwardedFor: string | undefined, trusted: BlockList | undefined): string {
  if (trusted === undefined || forwardedFor === undefined || !isTrusted(trusted, peer)) return peer
  const hops = forwardedFor.split(',')
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = (hops[i] as string).trim()
    if (hop !== '' && !isTrusted(trusted, hop)) return hop
  }
  return peer
}

/** True when `ip` is inside the trusted list (IPv4-mapped IPv6 peers are checked as IPv4). */
export function isTrusted(trusted: BlockList, ip: string): boolean {
  if (ip.startsWith('::ffff:') && ip.includes('.')) return trusted.check(ip.slice(7), 'ipv4')
  return trusted.check(ip, ip.includes(':') ? 'ipv6' : 'ipv4')
}

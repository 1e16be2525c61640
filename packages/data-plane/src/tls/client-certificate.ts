import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'

/**
 * The subject of the client certificate verified on this connection ("CN=alice,O=Example"),
 * or undefined on a plain connection, without a client certificate, or when it did not verify
 * against `tls_client_ca` (possible with `tls_client_auth = "optional"`).
 */
export function verifiedClientSubject(socket: Socket | TLSSocket): string | undefined {
  const tls = socket as TLSSocket
  if (tls.encrypted !== true || !tls.authorized) return undefined
  const cert = tls.getPeerCertificate()
  if (cert === null || cert.subject === undefined) return undefined
  return Object.entries(cert.subject)
    .map(([name, value]) => `${name}=${Array.isArray(value) ? value.join('+') : value}`)
    .join(',')
}

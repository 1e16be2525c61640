import type { ServerConfig } from './sections/server.ts'

/** True when a server terminates TLS: it has its own pair, named certificates, or all of them. */
export function isTlsServer(server: ServerConfig): boolean {
  return server.tls_cert !== undefined || server.certificates.length > 0 || server.global_certificates
}

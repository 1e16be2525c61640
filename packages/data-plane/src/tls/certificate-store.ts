// Minimal certificate store (server pair, exact/wildcard/default SNI); the full one replaces this file.
import { readFileSync } from 'node:fs'
import { createSecureContext, type SecureContext } from 'node:tls'
import type { Config } from '@fleetgate/schema'
import { configHash } from '@fleetgate/schema/runtime'
import type { Logger } from 'pino'
import type { CertificateStore, ServerTls } from './types.ts'

function pem(value: string): string {
  return value.includes('-----BEGIN') ? value : readFileSync(value, 'utf8')
}

export function createCertificateStore(config: Config, _previous: CertificateStore | undefined, _logger: Logger): CertificateStore {
  const servers = new Map<string, ServerTls>()
  for (const [name, server] of Object.entries(config.servers)) {
    const minVersion = server.tls_min_version === '1.3' ? 'TLSv1.3' : 'TLSv1.2'
    const context = (cert: string, key: string, path: string): SecureContext => {
      try {
        return createSecureContext({ cert: pem(cert), key: pem(key), minVersion })
      } catch (err) {
        throw new Error(`${path}: ${(err as Error).message}`)
      }
    }
    const exact = new Map<string, SecureContext>()
    const wildcard = new Map<string, SecureContext>()
    let fallback: SecureContext | undefined
    if (server.tls_cert !== undefined && server.tls_key !== undefined) {
      fallback = context(server.tls_cert, server.tls_key, `servers.${name}.tls_cert`)
    }
    const certNames = server.global_certificates ? Object.keys(config.certificates ?? {}) : server.certificates
    for (const certName of certNames) {
      const cert = config.certificates?.[certName]
      if (cert?.tls_cert === undefined || cert.tls_key === undefined) continue
      const ctx = context(cert.tls_cert, cert.tls_key, `certificates.${certName}.tls_cert`)
      for (const domain of cert.domains) {
        if (domain.startsWith('*.')) wildcard.set(domain.slice(2).toLowerCase(), ctx)
        else exact.set(domain.toLowerCase(), ctx)
      }
      if (cert.is_default) fallback = ctx
    }
    if (server.tls_cert === undefined && !server.global_certificates && server.certificates.length === 0) continue
    servers.set(name, {
      requestClientCert: false,
      contextFor(servername) {
        if (servername !== undefined) {
          const lower = servername.toLowerCase()
          const hit = exact.get(lower)
          if (hit !== undefined) return hit
          const dot = lower.indexOf('.')
          if (dot > 0) {
            const wild = wildcard.get(lower.slice(dot + 1))
            if (wild !== undefined) return wild
          }
        }
        return fallback
      },
    })
  }
  return {
    hash: configHash({ servers: config.servers, certificates: config.certificates }),
    forServer: (name) => servers.get(name),
    start() {},
    close() {},
  }
}

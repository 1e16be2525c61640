import type { CertificateConfig, ServerConfig } from '@fleetgate/schema'
import type { Logger } from 'pino'
import { type CertificateSources, domainsNotInSan } from './certificate-material.ts'
import { createLiveCertificate, type LiveCertificate, type LiveCertificateTiming, liveCertificateKey } from './live-certificate.ts'
import { configError, pemSource } from './pem-source.ts'

/**
 * The live certificates of one config being compiled: each is taken from the previous store
 * when its label and PEM sources are unchanged (re-read in case its files changed), else loaded.
 */
export interface CertificatePool {
  /** A `[certificates.NAME]`; undefined for an ACME certificate not issued yet. Throws when it is bad. */
  named(name: string, config: CertificateConfig): LiveCertificate | undefined
  /** A server's own tls_cert/tls_key pair; undefined when it has none. Throws when it is bad. */
  own(serverName: string, server: ServerConfig): LiveCertificate | undefined
  /** Everything taken so far, by reuse key. */
  readonly used: ReadonlyMap<string, LiveCertificate>
}

/** Creates a pool that reuses `reusable` (the previous store's certificates, by key). */
export function createCertificatePool(
  reusable: ReadonlyMap<string, LiveCertificate> | undefined,
  log: Logger,
  timing: LiveCertificateTiming,
): CertificatePool {
  const used = new Map<string, LiveCertificate>()
  const obtain = (label: string, sources: CertificateSources, domains: readonly string[], at: string): LiveCertificate => {
    const key = liveCertificateKey(label, sources)
    let cert = used.get(key) ?? reusable?.get(key)
    if (cert === undefined) {
      cert = createLiveCertificate(label, sources, log, timing)
      const missing = domainsNotInSan(cert.material().leaf, domains)
      if (missing.length > 0) log.warn({ certificate: label, domains: missing }, `${at}.domains: not in the certificate's subjectAltName`)
    } else if (!used.has(key)) {
      cert.reload()
    }
    used.set(key, cert)
    return cert
  }
  return {
    used,
    named(name, config) {
      const at = `certificates.${name}`
      if (config.tls_cert === undefined || config.tls_key === undefined) {
        if (config.acme !== undefined) return undefined // served once the ACME flow adds its PEM
        throw configError(`${at}.${config.tls_cert === undefined ? 'tls_cert' : 'tls_key'}`, 'required (or acme)')
      }
      const sources: CertificateSources = {
        cert: pemSource(`${at}.tls_cert`, config.tls_cert),
        key: pemSource(`${at}.tls_key`, config.tls_key),
        chain: config.tls_chain === undefined ? undefined : pemSource(`${at}.tls_chain`, config.tls_chain),
      }
      return obtain(name, sources, config.domains, at)
    },
    own(serverName, server) {
      const at = `servers.${serverName}`
      if (server.tls_cert === undefined) return undefined
      if (server.tls_key === undefined) throw configError(`${at}.tls_key`, 'tls_cert and tls_key go together')
      const sources = {
        cert: pemSource(`${at}.tls_cert`, server.tls_cert),
        key: pemSource(`${at}.tls_key`, server.tls_key),
        chain: undefined,
      }
      return obtain(at, sources, [], at)
    },
  }
}

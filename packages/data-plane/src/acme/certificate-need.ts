import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { CertificateConfig } from '@fleetgate/schema'
import { parseDuration } from '@fleetgate/schema/runtime'

/** Renew this long before expiry unless `acme_renew_before` says otherwise: 30 days. */
export const DEFAULT_RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000

/** Why an ACME certificate needs an order. */
export type NeedReason = 'missing' | 'unreadable' | 'expiring' | 'domains'

/** An ACME certificate that needs an order now, and why. */
export interface CertificateNeed {
  reason: NeedReason
  /** Expiry of the certificate in place, when there is a readable one. */
  notAfter?: Date
}

/** Fields of a certificate entry the decision reads; a raw `desired/` value has the same shape. */
export type CertificateEntry = Pick<CertificateConfig, 'domains' | 'tls_cert' | 'tls_key' | 'acme_renew_before'>

/**
 * Whether an ACME certificate must be (re)ordered at `now`: no certificate or key yet, a certificate
 * that cannot be read, one expiring within the renew window, or one that does not cover every
 * configured domain. Undefined when the certificate in place is fine.
 */
export function certificateNeed(cert: CertificateEntry, now: number = Date.now()): CertificateNeed | undefined {
  if (!cert.tls_cert || !cert.tls_key) return { reason: 'missing' }
  let x509: X509Certificate
  try {
    x509 = new X509Certificate(pemText(cert.tls_cert))
  } catch {
    return { reason: 'unreadable' }
  }
  const notAfter = new Date(x509.validTo)
  const renewBefore = cert.acme_renew_before === undefined ? DEFAULT_RENEW_BEFORE_MS : parseDuration(cert.acme_renew_before)
  if (notAfter.getTime() - renewBefore <= now) return { reason: 'expiring', notAfter }
  const names = new Set(dnsNames(x509))
  if ((cert.domains ?? []).some((d) => !names.has(d.toLowerCase()))) return { reason: 'domains', notAfter }
  return undefined
}

/** The DNS names of a certificate's subjectAltName, lower-cased. */
export function dnsNames(x509: X509Certificate): string[] {
  return (x509.subjectAltName ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4).toLowerCase())
}

/** PEM text of a `tls_cert` / `tls_key` value: inline PEM, or read from the path it names. */
export function pemText(value: string): string {
  return value.includes('-----BEGIN') ? value : readFileSync(value, 'utf8')
}

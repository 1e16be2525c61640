import { Gauge, type Registry } from 'prom-client'

/** OCSP status of a certificate as last learnt from its responder. */
export type OcspStatus = 'good' | 'revoked' | 'unknown' | 'unavailable'

const OCSP_STATUSES: readonly OcspStatus[] = ['good', 'revoked', 'unknown', 'unavailable']

/** What the TLS metrics read of one live certificate when scraped. */
export interface CertificateReport {
  /** The `certificate` label: the [certificates.NAME] name, or "servers.NAME" for a server's own pair. */
  readonly label: string
  notAfter(): Date
  /** undefined while OCSP stapling is off for it or has not answered yet. */
  ocspStatus(): OcspStatus | undefined
}

/** Certificates in use now (held by a live certificate store); read only at scrape time. */
const live = new Set<CertificateReport>()

/** Adds a certificate to the metrics until the returned function is called. */
export function reportCertificate(report: CertificateReport): () => void {
  live.add(report)
  return () => live.delete(report)
}

/** Registers the TLS gauges in `registry`: their values are read from the live certificates when scraped. */
export function registerTlsMetrics(registry: Registry): void {
  new Gauge({
    name: 'fleetgate_tls_certificate_expiry_seconds',
    help: 'Seconds until the certificate expires (negative once expired)',
    labelNames: ['certificate'],
    registers: [registry],
    collect() {
      this.reset()
      const now = Date.now()
      for (const c of live) this.set({ certificate: c.label }, Math.floor((c.notAfter().getTime() - now) / 1000))
    },
  })
  new Gauge({
    name: 'fleetgate_tls_ocsp_status',
    help: 'OCSP status of a stapled certificate: 1 for its current status (good, revoked, unknown, unavailable), 0 for the others',
    labelNames: ['certificate', 'status'],
    registers: [registry],
    collect() {
      this.reset()
      for (const c of live) {
        const current = c.ocspStatus()
        if (current === undefined) continue
        for (const status of OCSP_STATUSES) this.set({ certificate: c.label, status }, status === current ? 1 : 0)
      }
    },
  })
}

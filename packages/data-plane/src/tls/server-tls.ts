import { createSecureContext, type SecureContext } from 'node:tls'
import type { Config, ServerConfig } from '@fleetgate/schema'
import { didYouMean } from '@fleetgate/schema/runtime'
import type { Logger } from 'pino'
import { type ContextProfile, compileContextProfile } from './context-profile.ts'
import type { LiveCertificate } from './live-certificate.ts'
import { configError, pemSource } from './pem-source.ts'
import { createSniTable, type SniTable } from './sni-table.ts'
import type { ServerTls } from './types.ts'

/** A server's TLS and what it holds while live. */
export interface CompiledServerTls {
  tls: ServerTls
  /** Holds every certificate the server may serve, with its context for the server's profile (store start). */
  hold(): void
  /**
   * Lets go (store close, or a store that failed or never started): ends the holds of hold(),
   * or, never held, drops the contexts prepared for it unless another server holds them.
   */
  release(): void
  /** The `tls_client_ca` file, when client certificates are asked for and the CA is not inline. */
  clientCa: ClientCaFile | undefined
}

/** A client CA bundle on disk, and how to read it again. */
export interface ClientCaFile {
  readonly path: string
  /** Reads the file again; on a change, new handshakes verify against it (a bad file keeps the old CA). */
  reload(): void
}

/**
 * Compiles one server's TLS: its profile, the certificates it serves (contexts built now) and
 * the SNI table over them. Throws a ConfigValidationError naming the key at fault.
 */
export function compileServerTls(
  name: string,
  server: ServerConfig,
  config: Config,
  named: ReadonlyMap<string, LiveCertificate>,
  own: LiveCertificate | undefined,
  log: Logger,
): CompiledServerTls {
  let profile = compileContextProfile(name, server)
  const { table, certs, fallback } = buildSniTable(name, server, config, named, profile, log)
  if (own !== undefined) {
    own.prepare(profile)
    certs.push(own)
  }
  const defaultCert = fallback ?? own
  if (defaultCert !== undefined) table.setDefault(defaultCert)
  const stapling = server.ocsp_stapling ?? true
  if (server.ocsp_stapling === true) warnStaplingGaps(`servers.${name}`, certs, log)
  const caListeners = new Set<() => void>()
  let bare: { key: string; context: SecureContext } | undefined
  // The profile whose contexts this server holds (between hold() and release()).
  let held: ContextProfile | undefined
  const reloadClientCa = (): void => {
    let next: ContextProfile
    try {
      next = compileContextProfile(name, server)
      if (next.key === profile.key) return
      for (const cert of certs) cert.prepare(next)
    } catch (err) {
      log.error({ server: name, err: (err as Error).message }, `servers.${name}.tls_client_ca: not reloaded, the previous CA stays in use`)
      return
    }
    // The old CA's contexts go once no server holds them; new handshakes already use `next`.
    if (held === undefined) for (const cert of certs) cert.discard(profile)
    else {
      for (const cert of certs) cert.moveHold(held, next)
      held = next
    }
    profile = next
    log.info({ server: name }, `servers.${name}.tls_client_ca reloaded: new handshakes verify against it`)
    for (const listener of caListeners) listener()
  }
  const tls: ServerTls = {
    requestClientCert: profile.clientAuth !== 'off',
    clientAuth: profile.clientAuth,
    // `profile` is read per handshake: a reloaded client CA takes effect for new connections.
    contextFor: (servername) => table.lookup(servername)?.context(profile),
    defaultContextOptions: () => defaultCert?.contextOptions(profile),
    bareContext() {
      if (bare?.key !== profile.key) bare = { key: profile.key, context: createSecureContext(profile.options) }
      return bare.context
    },
    onReload(listener) {
      const stops = certs.map((cert) => cert.onReload(listener))
      caListeners.add(listener)
      return () => {
        for (const stop of stops) stop()
        caListeners.delete(listener)
      }
    },
    ocspResponse(certificate) {
      if (!stapling) return undefined
      // Few certificates per server: comparing DER beats hashing it on every handshake.
      for (const cert of certs) if (cert.material().leaf.raw.equals(certificate)) return cert.staple()
      return undefined
    },
  }
  const caPath =
    profile.clientAuth === 'off' || server.tls_client_ca === undefined
      ? undefined
      : pemSource(`servers.${name}.tls_client_ca`, server.tls_client_ca).path
  return {
    tls,
    hold() {
      if (held !== undefined) return
      held = profile
      for (const cert of certs) cert.retain(stapling, profile)
    },
    release() {
      if (held === undefined) {
        for (const cert of certs) cert.discard(profile)
        return
      }
      for (const cert of certs) cert.release(stapling, held)
      held = undefined
    },
    clientCa: caPath === undefined ? undefined : { path: caPath, reload: reloadClientCa },
  }
}

function buildSniTable(
  name: string,
  server: ServerConfig,
  config: Config,
  named: ReadonlyMap<string, LiveCertificate>,
  profile: ContextProfile,
  log: Logger,
): { table: SniTable<LiveCertificate>; certs: LiveCertificate[]; fallback: LiveCertificate | undefined } {
  const at = `servers.${name}`
  const all = Object.keys(config.certificates ?? {})
  const table = createSniTable<LiveCertificate>()
  const certs: LiveCertificate[] = []
  let fallback: LiveCertificate | undefined
  ;(server.global_certificates ? all : server.certificates).forEach((certName, i) => {
    const certConfig = config.certificates?.[certName]
    if (certConfig === undefined)
      throw configError(`${at}.certificates.${i}`, `unknown certificate "${certName}"${didYouMean(certName, all)}`)
    const cert = named.get(certName)
    if (cert === undefined) return // ACME certificate not issued yet
    cert.prepare(profile)
    certs.push(cert)
    for (const domain of certConfig.domains) {
      if (!table.add(domain, cert))
        log.warn({ server: name, domain }, `certificates.${certName}.domains: "${domain}" is already served by another certificate`)
    }
    if (!certConfig.is_default) return
    if (fallback === undefined) fallback = cert
    else log.warn({ server: name }, `certificates.${certName}.is_default: ${fallback.label} is already the default of ${at}`)
  })
  return { table, certs, fallback }
}

function warnStaplingGaps(at: string, certs: readonly LiveCertificate[], log: Logger): void {
  for (const cert of certs) {
    const m = cert.material()
    if (m.ocspUrl === undefined) log.warn({ certificate: cert.label }, `${at}.ocsp_stapling: the certificate names no OCSP responder`)
    else if (m.issuer === undefined)
      log.warn({ certificate: cert.label }, `${at}.ocsp_stapling: the issuer certificate is not in the chain`)
  }
}

import { createHash } from 'node:crypto'
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls'
import type { Logger } from 'pino'
import { type CertificateMaterial, type CertificateSources, loadCertificateMaterial } from './certificate-material.ts'
import type { ContextProfile } from './context-profile.ts'
import { logExpiry, scheduleDailyExpiryCheck } from './expiry-check.ts'
import { type OcspStapler, type OcspTiming, startOcspStapler } from './ocsp-stapler.ts'
import { type StopWatching, type WatchTiming, watchPemFiles } from './pem-file-watcher.ts'
import { configError } from './pem-source.ts'
import { reportCertificate } from './tls-metrics.ts'

/** Timing of the background work of live certificates (tests shorten it). */
export interface LiveCertificateTiming {
  watch: WatchTiming
  ocsp: OcspTiming
  expiryCheckMs: number
}

/**
 * One certificate in use: its material, a SecureContext per server profile, and the background
 * work that keeps it current (file watch, OCSP, expiry checks) while at least one live store
 * holds it. Shared across stores by `key`, so an unchanged certificate survives a config change.
 */
export interface LiveCertificate {
  /** Reuse key: the label and PEM sources it was made from. */
  readonly key: string
  readonly label: string
  material(): CertificateMaterial
  /** Builds (now, so a failure rejects the config) the context for `profile`. */
  prepare(profile: ContextProfile): void
  /** The current context for a prepared profile. */
  context(profile: ContextProfile): SecureContext | undefined
  /** Options of the current context for `profile` (Node's server needs options, not a context, for clients without SNI). */
  contextOptions(profile: ContextProfile): SecureContextOptions
  /** Re-reads the files now; keeps the old material (and logs) when the new one is invalid. */
  reload(): void
  /** Calls `listener` after each successful reload from disk. */
  onReload(listener: () => void): () => void
  /** OCSP response to staple now, if stapling runs and has a good one. */
  staple(): Buffer | undefined
  /** Awaits the OCSP fetch in flight (tests). */
  ocspRefreshed(): Promise<void>
  /**
   * Starts background work on the first hold; `stapling` counts holders that want OCSP. The hold
   * keeps `profile`'s context (prepared before).
   */
  retain(stapling: boolean, profile: ContextProfile): void
  /** Ends a hold; a profile's context that no hold keeps any more is dropped. */
  release(stapling: boolean, profile: ContextProfile): void
  /** Moves one hold from profile `from` to the prepared `to` (its server's client CA was reloaded). */
  moveHold(from: ContextProfile, to: ContextProfile): void
  /** Drops `profile`'s context unless a hold keeps it (a store that was built but never started). */
  discard(profile: ContextProfile): void
  /** Keys of the profiles it has a context for (tests). */
  profileKeys(): string[]
}

/** The reuse key of a certificate made from `sources` under `label`. */
export function liveCertificateKey(label: string, sources: CertificateSources): string {
  const parts = [
    label,
    sources.cert.path ?? sources.cert.inline,
    sources.key.path ?? sources.key.inline,
    sources.chain?.path ?? sources.chain?.inline,
  ]
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex')
}

function build(material: CertificateMaterial, profile: ContextProfile): SecureContextOptions & { context: SecureContext } {
  const options = { ...profile.options, cert: material.certPem, key: material.keyPem }
  return { ...options, context: createSecureContext(options) }
}

/** Loads a certificate (throws a ConfigValidationError when it is bad) and wraps it for live use. */
export function createLiveCertificate(
  label: string,
  sources: CertificateSources,
  logger: Logger,
  timing: LiveCertificateTiming,
): LiveCertificate {
  let material = loadCertificateMaterial(sources)
  const contexts = new Map<string, { profile: ContextProfile; built: ReturnType<typeof build> }>()
  // Holds per profile: a context lives while a started store's server serves it. Without this,
  // every client CA rotation or TLS settings change left one more context behind, rebuilt on
  // each reload of the certificate.
  const profileHolds = new Map<string, number>()
  const holdProfile = (key: string) => profileHolds.set(key, (profileHolds.get(key) ?? 0) + 1)
  const releaseProfile = (key: string) => {
    const left = (profileHolds.get(key) ?? 0) - 1
    if (left > 0) {
      profileHolds.set(key, left)
      return
    }
    profileHolds.delete(key)
    contexts.delete(key)
  }
  const listeners = new Set<() => void>()
  let holders = 0
  let staplingHolders = 0
  let stapler: OcspStapler | undefined
  let stopBackground: (() => void)[] = []
  const files = [sources.cert.path, sources.key.path, sources.chain?.path].filter((p): p is string => p !== undefined)

  const startStapler = () => {
    stapler?.stop()
    stapler = undefined
    if (staplingHolders === 0 || material.ocspUrl === undefined || material.issuer === undefined) return
    stapler = startOcspStapler(label, material.leaf, material.issuer, material.ocspUrl, logger, timing.ocsp)
  }
  const checkExpiry = () => void logExpiry(logger, label, material.notAfter, Date.now())

  const cert: LiveCertificate = {
    key: liveCertificateKey(label, sources),
    label,
    material: () => material,
    prepare(profile) {
      if (contexts.has(profile.key)) return
      try {
        contexts.set(profile.key, { profile, built: build(material, profile) })
      } catch (err) {
        throw configError(sources.cert.key, `TLS context: ${(err as Error).message}`, err)
      }
    },
    context: (profile) => contexts.get(profile.key)?.built.context,
    contextOptions(profile) {
      const { context: _context, ...options } = contexts.get(profile.key)?.built ?? build(material, profile)
      return options
    },
    reload() {
      let next: CertificateMaterial
      const rebuilt = new Map<string, { profile: ContextProfile; built: ReturnType<typeof build> }>()
      try {
        next = loadCertificateMaterial(sources)
        if (next.texts.every((text, i) => text === material.texts[i])) return
        for (const [key, entry] of contexts) rebuilt.set(key, { profile: entry.profile, built: build(next, entry.profile) })
      } catch (err) {
        logger.error(
          { certificate: label, err: (err as Error).message },
          'TLS certificate files changed but do not load; still serving the previous certificate',
        )
        return
      }
      material = next
      for (const [key, entry] of rebuilt) contexts.set(key, entry)
      logger.info({ certificate: label, notAfter: material.notAfter.toISOString() }, 'TLS certificate reloaded from disk')
      if (holders > 0) {
        checkExpiry()
        startStapler()
      }
      for (const listener of listeners) listener()
    },
    onReload(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    staple: () => stapler?.staple(),
    ocspRefreshed: async () => {
      await stapler?.refreshed()
    },
    retain(stapling, profile) {
      holdProfile(profile.key)
      holders += 1
      if (stapling) staplingHolders += 1
      if (holders === 1) {
        stopBackground = [
          reportCertificate({ label, notAfter: () => material.notAfter, ocspStatus: () => stapler?.status() }),
          scheduleDailyExpiryCheck(checkExpiry, timing.expiryCheckMs),
        ]
        if (files.length > 0) stopBackground.push(watchPemFiles(files, () => cert.reload(), timing.watch) as StopWatching)
      }
      if (stapling && staplingHolders === 1) startStapler()
    },
    release(stapling, profile) {
      releaseProfile(profile.key)
      holders = Math.max(0, holders - 1)
      if (stapling) staplingHolders = Math.max(0, staplingHolders - 1)
      if (staplingHolders === 0) {
        stapler?.stop()
        stapler = undefined
      }
      if (holders === 0) {
        for (const stop of stopBackground) stop()
        stopBackground = []
      }
    },
    moveHold(from, to) {
      holdProfile(to.key)
      releaseProfile(from.key)
    },
    discard(profile) {
      if (!profileHolds.has(profile.key)) contexts.delete(profile.key)
    },
    profileKeys: () => [...contexts.keys()],
  }
  return cert
}

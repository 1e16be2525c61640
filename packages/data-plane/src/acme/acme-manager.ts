import type { Config } from '@fleetgate/schema'
import type { Logger } from 'pino'
import { acmeDirectoryUrl } from './acme-directory.ts'
import { type ChallengeSession, type IssuedCertificate, orderCertificate } from './acme-order.ts'
import { type CertificateEntry, certificateNeed } from './certificate-need.ts'

/** A certificate entry as its source of truth holds it now, and how to store an issued certificate there. */
export interface SourceEntry {
  cert: CertificateEntry & { acme?: string; acme_email?: string }
  /** Stores the issued chain and key for this entry (only if it still asks for the same names). */
  save(issued: IssuedCertificate): Promise<void>
}

/** Where a mode keeps ACME state: the fleet's store, or a local folder. */
export interface AcmeBackend {
  /** Runs `work` while no other node orders `name` (fleet: a lock in the store); `signal` aborts the wait. */
  exclusive<T>(name: string, work: () => Promise<T>, signal: AbortSignal): Promise<T>
  /** A fresh read of the certificate entry; undefined when it is gone. */
  read(name: string): Promise<SourceEntry | undefined>
  /** The account key for a directory, created once and shared by every node. */
  accountKey(directoryUrl: string): Promise<string>
  /** Opens where this order's key authorizations are published. */
  challenges(): Promise<ChallengeSession>
}

/** Options of {@link createAcmeManager}. */
export interface AcmeManagerOptions {
  backend: AcmeBackend
  logger: Logger
  /** PEM file of an extra CA trusted for ACME directories (a private or test CA). */
  caFile?: string
  /** Periodic re-check; default 1 h, ±20% jitter. */
  intervalMs?: number
  /** First retry after a failed order; doubles up to `maxRetryMs`. Default 1 min. */
  firstRetryMs?: number
  /** Default 6 h. */
  maxRetryMs?: number
}

/** Orders and renews the ACME certificates of the applied config. */
export interface AcmeManager {
  /** Looks at `config` (call after every apply); orders what needs it, in the background. */
  check(config: Config): void
  /** Resolves once no run is in progress or queued. */
  idle(): Promise<void>
  stop(): Promise<void>
}

const STOP_WAIT_MS = 5000

interface Failure {
  count: number
  nextAt: number
}

/**
 * Creates the manager: on every `check` and on a jittered timer it walks the config's certificates
 * that set `acme`, and for each one that is missing, unreadable, expiring within its renew window or
 * not covering its domains, it takes the backend's exclusive section, re-reads the entry (another node
 * may have just renewed it), orders, and saves. Failures are logged with the reason and retried with
 * exponential backoff. Private keys are never logged.
 */
export function createAcmeManager(o: AcmeManagerOptions): AcmeManager {
  const { backend, logger } = o
  const intervalMs = o.intervalMs ?? 3600_000
  const firstRetryMs = o.firstRetryMs ?? 60_000
  const maxRetryMs = o.maxRetryMs ?? 6 * 3600_000
  const failures = new Map<string, Failure>()
  let latest: Config | undefined
  let running: Promise<void> | undefined
  let again = false
  let stopped = false
  let retryTimer: NodeJS.Timeout | undefined
  const stopping = new AbortController()

  const kick = (): void => {
    if (stopped) return
    if (running) {
      again = true
      return
    }
    running = runOnce().finally(() => {
      running = undefined
      if (again) {
        again = false
        kick()
      }
    })
  }

  const tick = (): NodeJS.Timeout => {
    const timer = setTimeout(
      () => {
        periodic = tick()
        kick()
      },
      intervalMs * (0.8 + Math.random() * 0.4),
    )
    timer.unref()
    return timer
  }
  let periodic = tick()

  async function runOnce(): Promise<void> {
    const config = latest
    if (config === undefined) return
    for (const name of failures.keys()) if (config.certificates?.[name]?.acme === undefined) failures.delete(name)
    for (const [name, cert] of Object.entries(config.certificates ?? {})) {
      if (stopped) return
      if (cert.acme === undefined) continue
      if (certificateNeed(cert) === undefined) {
        failures.delete(name)
        continue
      }
      if ((failures.get(name)?.nextAt ?? 0) > Date.now()) continue
      try {
        await backend.exclusive(name, () => issueIfNeeded(name), stopping.signal)
        failures.delete(name)
      } catch (err) {
        if (stopped) return
        recordFailure(name, err)
      }
    }
    armRetry()
  }

  async function issueIfNeeded(name: string): Promise<void> {
    const entry = await backend.read(name)
    if (entry?.cert.acme === undefined) return
    const need = certificateNeed(entry.cert)
    if (need === undefined) {
      logger.info({ certificate: name }, 'ACME certificate is already current (renewed elsewhere)')
      return
    }
    const domains = entry.cert.domains ?? []
    if (domains.length === 0) throw new Error('no domains to order')
    const wildcard = domains.find((d) => d.includes('*'))
    if (wildcard !== undefined) throw new Error(`"${wildcard}": wildcard names need DNS-01, and only HTTP-01 is supported`)
    const directoryUrl = acmeDirectoryUrl(entry.cert.acme)
    logger.info({ certificate: name, domains, reason: need.reason, notAfter: need.notAfter, directory: directoryUrl }, 'ACME order started')
    const accountKey = await backend.accountKey(directoryUrl)
    const challenges = await backend.challenges()
    let issued: IssuedCertificate
    try {
      issued = await orderCertificate({
        directoryUrl,
        accountKey,
        domains,
        challenges,
        logger,
        ...(entry.cert.acme_email ? { email: entry.cert.acme_email } : {}),
        ...(o.caFile ? { caFile: o.caFile } : {}),
      })
    } finally {
      await challenges.close().catch((err: Error) => logger.warn({ reason: err.message }, 'ACME challenge cleanup failed'))
    }
    await entry.save(issued)
    logger.info({ certificate: name, domains }, 'ACME certificate issued')
  }

  function recordFailure(name: string, err: unknown): void {
    const count = (failures.get(name)?.count ?? 0) + 1
    const delay = Math.min(maxRetryMs, firstRetryMs * 2 ** (count - 1))
    failures.set(name, { count, nextAt: Date.now() + delay })
    logger.error({ certificate: name, reason: reasonOf(err), attempt: count, retryInMs: delay }, 'ACME order failed')
  }

  /** One timer for the earliest pending retry. */
  function armRetry(): void {
    clearTimeout(retryTimer)
    if (stopped || failures.size === 0) return
    const next = Math.min(...[...failures.values()].map((f) => f.nextAt))
    retryTimer = setTimeout(kick, Math.max(0, next - Date.now()))
    retryTimer.unref()
  }

  return {
    check(config) {
      latest = config
      kick()
    },
    async idle() {
      while (running) await running
    },
    async stop() {
      stopped = true
      stopping.abort()
      clearTimeout(periodic)
      clearTimeout(retryTimer)
      // An order in flight cannot be cancelled; give it a moment to finish and save, then leave it.
      await Promise.race([running, new Promise((resolve) => setTimeout(resolve, STOP_WAIT_MS).unref())])
    },
  }
}

/** A failure's reason for the log: the message only (an HTTP client error object carries requests and agents). */
function reasonOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : ''
  return `${err.message}${cause}`
}

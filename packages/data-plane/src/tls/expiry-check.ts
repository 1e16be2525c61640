import type { Logger } from 'pino'

/** Days ahead of notAfter a certificate is warned about. */
export const EXPIRY_WARNING_DAYS = 14

const DAY_MS = 86_400_000

/** How soon a certificate expires: "ok", "expiring" (within EXPIRY_WARNING_DAYS) or "expired". */
export type ExpiryState = 'ok' | 'expiring' | 'expired'

/** The expiry state of a certificate at `now`. */
export function expiryState(notAfter: Date, now: number): ExpiryState {
  const left = notAfter.getTime() - now
  if (left <= 0) return 'expired'
  return left <= EXPIRY_WARNING_DAYS * DAY_MS ? 'expiring' : 'ok'
}

/** Logs a warning for a certificate expiring soon and an error for an expired one; returns its state. */
export function logExpiry(logger: Logger, certificate: string, notAfter: Date, now: number): ExpiryState {
  const state = expiryState(notAfter, now)
  const days = Math.floor((notAfter.getTime() - now) / DAY_MS)
  if (state === 'expired') logger.error({ certificate, notAfter: notAfter.toISOString() }, 'TLS certificate has expired')
  else if (state === 'expiring')
    logger.warn({ certificate, notAfter: notAfter.toISOString(), days }, `TLS certificate expires in ${days} days`)
  return state
}

/** Runs `check` now and then every day until the returned function is called. */
export function scheduleDailyExpiryCheck(check: () => void, intervalMs = DAY_MS): () => void {
  check()
  const timer = setInterval(check, intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}

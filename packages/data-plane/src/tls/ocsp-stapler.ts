import type { X509Certificate } from 'node:crypto'
import type { Logger } from 'pino'
import { request } from 'undici'
import type { OcspAnswer } from './ocsp-messages.ts'

// The ASN.1 libraries cost ~4 MB of RSS: loaded with the first stapler, not with the gateway.
let messages: Promise<typeof import('./ocsp-messages.ts')> | undefined
const ocspMessages = () => {
  messages ??= import('./ocsp-messages.ts')
  return messages
}

import type { OcspStatus } from './tls-metrics.ts'

/** Timing of OCSP fetches. */
export interface OcspTiming {
  /** First retry delay after a failed fetch; doubles up to retryMaxMs. */
  retryMinMs: number
  retryMaxMs: number
  /** Refresh period when a response has no nextUpdate. */
  refreshMs: number
  /** Shortest delay between two fetches of good responses (a responder with tiny validity windows). */
  minRefreshMs: number
  timeoutMs: number
}

/** Defaults: retry from 1 min to 1 h, refresh hourly without nextUpdate, 10 s per fetch. */
export const DEFAULT_OCSP_TIMING: OcspTiming = {
  retryMinMs: 60_000,
  retryMaxMs: 3_600_000,
  refreshMs: 3_600_000,
  minRefreshMs: 10_000,
  timeoutMs: 10_000,
}

/** The OCSP state of one certificate, kept fresh in the background. */
export interface OcspStapler {
  /** The DER response to staple now: a good, unexpired answer, else undefined. */
  staple(): Buffer | undefined
  /** Last known status; undefined before the first answer or failure. */
  status(): OcspStatus | undefined
  /** Resolves when the latest fetch has settled (tests and start-up waits). */
  refreshed(): Promise<void>
  stop(): void
}

const MAX_RESPONSE_BYTES = 64 * 1024

async function fetchOcsp(url: string, body: Buffer, timeoutMs: number): Promise<Buffer> {
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  })
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length
    if (size > MAX_RESPONSE_BYTES) {
      res.body.destroy()
      throw new Error(`response larger than ${MAX_RESPONSE_BYTES} bytes`)
    }
    chunks.push(chunk as Buffer)
  }
  if (res.statusCode !== 200) throw new Error(`responder answered HTTP ${res.statusCode}`)
  return Buffer.concat(chunks)
}

/**
 * Fetches the OCSP response of `leaf` from `url`, caches it and refreshes it halfway to its
 * nextUpdate. A good answer is stapled; a revoked one is logged as an error and not stapled
 * (nor is "unknown"); a responder that is down is logged once per outage, and the cached answer
 * is stapled until its nextUpdate passes.
 */
export function startOcspStapler(
  label: string,
  leaf: X509Certificate,
  issuer: X509Certificate,
  url: string,
  logger: Logger,
  timing: OcspTiming = DEFAULT_OCSP_TIMING,
): OcspStapler {
  let body: Buffer | undefined
  let answer: OcspAnswer | undefined
  let status: OcspStatus | undefined
  let failures = 0
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> = Promise.resolve()
  const isFresh = (a: OcspAnswer | undefined): a is OcspAnswer =>
    a !== undefined && (a.nextUpdate === undefined || a.nextUpdate.getTime() > Date.now())

  const schedule = (delayMs: number) => {
    if (stopped) return
    timer = setTimeout(() => {
      running = fetchOnce()
    }, delayMs)
    timer.unref()
  }
  const accept = (next: OcspAnswer) => {
    if (next.status !== status) {
      const fields = { certificate: label, responder: url, thisUpdate: next.thisUpdate.toISOString() }
      if (next.status === 'revoked')
        logger.error({ ...fields, revokedAt: next.revokedAt?.toISOString() }, 'OCSP: certificate is REVOKED; not stapled')
      else if (next.status === 'unknown') logger.warn(fields, 'OCSP: responder does not know the certificate; not stapled')
      else logger.info(fields, 'OCSP: certificate is good; stapling')
    } else if (failures > 0) logger.info({ certificate: label, responder: url }, 'OCSP: responder reachable again')
    failures = 0
    answer = next
    status = next.status
    const validMs =
      next.nextUpdate === undefined ? timing.refreshMs : (next.nextUpdate.getTime() - Math.max(next.thisUpdate.getTime(), Date.now())) / 2
    schedule(Math.max(timing.minRefreshMs, Math.min(validMs, timing.refreshMs * 24)))
  }
  const fail = (err: Error) => {
    if (failures === 0) {
      logger.warn(
        { certificate: label, responder: url, err: err.message },
        isFresh(answer)
          ? 'OCSP: fetch failed; stapling the cached response until it expires'
          : 'OCSP: fetch failed; serving without a staple',
      )
    }
    failures += 1
    if (!isFresh(answer)) {
      answer = undefined
      status = 'unavailable'
    }
    schedule(Math.min(timing.retryMinMs * 2 ** (failures - 1), timing.retryMaxMs))
  }
  const fetchOnce = async () => {
    try {
      const { buildOcspRequest, parseOcspResponse } = await ocspMessages()
      body ??= buildOcspRequest(leaf, issuer)
      const der = await fetchOcsp(url, body, timing.timeoutMs)
      if (!stopped) accept(parseOcspResponse(der, leaf, issuer))
    } catch (err) {
      if (!stopped) fail(err as Error)
    }
  }
  running = fetchOnce()
  return {
    staple: () => (answer !== undefined && answer.status === 'good' && isFresh(answer) ? answer.der : undefined),
    status: () => status,
    refreshed: () => running,
    stop() {
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
    },
  }
}

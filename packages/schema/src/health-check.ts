import { parseDuration } from './units.ts'

/** An active health check as parsed from `upstreams.NAME.health_check`. */
export interface HealthCheckSpec {
  kind: 'http' | 'https' | 'tcp' | 'grpc' | 'grpcs'
  /** Host header for http checks (the URL's host); :authority for grpc checks (the backend when empty). */
  host: string
  /** Path and query sent by http checks. */
  path: string
  /** grpc checks: the service asked about in grpc.health.v1.Health/Check ("" is the whole server). */
  service: string
  intervalMs: number
  timeoutMs: number
  /** Consecutive failures that mark a backend down. */
  failure: number
  /** Consecutive successes that bring it back. */
  success: number
}

const OPTIONS = new Set(['interval', 'timeout', 'failure', 'success'])

/**
 * Parses "http://host/path?interval=2s&failure=2&success=1&timeout=1s", "tcp://", or
 * "grpc://?service=pkg.Svc&interval=2s" (grpcs:// over TLS): a grpc.health.v1 Check over
 * HTTP/2 where only SERVING counts as up. Throws when malformed.
 */
export function parseHealthCheck(text: string): HealthCheckSpec {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new Error(`invalid health check URL "${text}" (for example "http://api/healthz?interval=2s" or "tcp://")`)
  }
  const kind = url.protocol.slice(0, -1)
  if (kind !== 'http' && kind !== 'https' && kind !== 'tcp' && kind !== 'grpc' && kind !== 'grpcs') {
    throw new Error(`health check scheme must be http, https, tcp, grpc or grpcs, got "${kind}"`)
  }
  const params = new URLSearchParams(url.search)
  const count = (name: string, def: number) => {
    const raw = params.get(name)
    if (raw === null) return def
    const n = Number(raw)
    if (!Number.isInteger(n) || n < 1 || n > 100) throw new Error(`health check "${name}" must be an integer 1..100`)
    return n
  }
  const intervalMs = parseDuration(params.get('interval') ?? '5s')
  const timeoutMs = parseDuration(params.get('timeout') ?? '2s')
  const spec: HealthCheckSpec = {
    kind,
    host: url.host,
    path: '/',
    intervalMs,
    timeoutMs,
    failure: count('failure', 2),
    success: count('success', 1),
    service: '',
  }
  for (const name of OPTIONS) params.delete(name)
  if (kind === 'grpc' || kind === 'grpcs') {
    spec.service = params.get('service') ?? ''
    params.delete('service')
    if (params.size > 0 || (url.pathname !== '' && url.pathname !== '/')) {
      throw new Error('a grpc health check takes no path and only service, interval, timeout, failure and success')
    }
  }
  const rest = params.toString()
  spec.path = (url.pathname || '/') + (rest ? `?${rest}` : '')
  if (intervalMs < 100) throw new Error('health check interval must be at least 100ms')
  return spec
}

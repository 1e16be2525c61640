import type { TLSSocket } from 'node:tls'
import type { AccessLogVariable } from '@fleetgate/schema'
import { peerAddress, resolveClientIp } from '../../proxy/client-ip.ts'
import { requestHost } from '../../proxy/request-headers.ts'
import { verifiedClientSubject } from '../../tls/client-certificate.ts'
import type { LogEntry, LogGetter, LogValue } from './log-entry.ts'

/** Request headers whose values are never written to a log, whatever the format asks. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key'])
const REDACTED = '[redacted]'

const ms = (from: number | undefined, to: number | undefined): LogValue =>
  from === undefined || to === undefined ? undefined : Math.round((to - from) * 1000) / 1000

function peer(e: LogEntry): string {
  return peerAddress(e.socket)
}

function header(e: LogEntry, name: string): LogValue {
  const v = e.req.headers[name]
  return Array.isArray(v) ? v.join(', ') : v
}

function tls(e: LogEntry): TLSSocket | undefined {
  const socket = e.socket as TLSSocket
  return socket.encrypted ? socket : undefined
}

function queryIndex(url: string): number {
  return url.indexOf('?')
}

/** Response body bytes: counted by the proxy, else the length of the gateway's own answer. */
function size(e: LogEntry): number {
  if (e.outcome.bodyBytes !== undefined) return e.outcome.bodyBytes
  const length = Number(e.res.getHeader('content-length'))
  return Number.isFinite(length) ? length : 0
}

function human(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${Math.round(ms / 100) / 10}s`
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
let clfSecond = -1
let clfText = ''

/** "10/Oct/2000:13:55:36 +0000", formatted once per second (UTC). */
function timeClf(wallClock: number): string {
  const second = Math.floor(wallClock / 1000)
  if (second !== clfSecond) {
    const d = new Date(second * 1000)
    const p = (n: number) => String(n).padStart(2, '0')
    clfText = `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`
    clfSecond = second
  }
  return clfText
}

function stringVar(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined
}

/**
 * The named variables of access-log formats (their names are the schema's ACCESS_LOG_VARIABLES: one
 * getter each, no other). Times are milliseconds (3 decimals) unless the
 * name says otherwise; a variable that does not apply (no upstream, plain listener) is "-".
 */
export const VARIABLES: Readonly<Record<AccessLogVariable, LogGetter>> = {
  // request
  method: (e) => e.req.method,
  uri: (e) => e.req.url,
  path: (e) => {
    const url = e.req.url ?? ''
    const q = queryIndex(url)
    return q < 0 ? url : url.slice(0, q)
  },
  query: (e) => {
    const url = e.req.url ?? ''
    const q = queryIndex(url)
    return q < 0 ? undefined : url.slice(q + 1)
  },
  host: (e) => requestHost(e.req),
  scheme: (e) => (tls(e) ? 'https' : 'http'),
  proto: (e) => `HTTP/${e.req.httpVersion}`,
  remote: peer,
  remote_port: (e) => e.socket.remotePort,
  client_ip: (e) => resolveClientIp(peer(e), e.req.headers['x-forwarded-for'] as string | undefined, e.trustedProxies),
  user_agent: (e) => e.req.headers['user-agent'],
  referer: (e) => e.req.headers.referer,
  // The request_id plugin's id (drawn or taken from the client), else the client's own header.
  request_id: (e) =>
    stringVar(e.outcome.vars?.request_id) ?? header(e, 'x-request-id') ?? (e.res.getHeader('x-request-id') as string | undefined),
  request_length: (e) => Number(e.req.headers['content-length'] ?? 0),
  // response
  status: (e) => e.outcome.status,
  size,
  // timing
  time: (e) => new Date(e.wallClock).toISOString(),
  time_clf: (e) => timeClf(e.wallClock),
  time_unix: (e) => e.wallClock,
  latency: (e) => ms(e.startedAt, e.endedAt),
  latency_human: (e) => human(e.endedAt - e.startedAt),
  ttfb: (e) => ms(e.startedAt, e.outcome.headersAt ?? e.endedAt),
  upstream_connect_time: (e) => ms(e.outcome.sentAt, e.outcome.connectedAt),
  upstream_header_time: (e) => ms(e.outcome.sentAt, e.outcome.headersAt),
  upstream_response_time: (e) => ms(e.outcome.sentAt, e.outcome.sentAt === undefined ? undefined : e.endedAt),
  // upstream
  upstream: (e) => e.upstream,
  upstream_addr: (e) => e.outcome.backend,
  upstream_status: (e) => e.outcome.upstreamStatus,
  upstream_reused: (e) => (e.outcome.reused === undefined ? undefined : e.outcome.reused ? 'true' : 'false'),
  attempts: (e) => e.outcome.attempts,
  retries: (e) => Math.max(e.outcome.attempts - 1, 0),
  // TLS (empty on plain listeners)
  tls_version: (e) => tls(e)?.getProtocol() ?? undefined,
  tls_cipher: (e) => tls(e)?.getCipher()?.name,
  tls_sni: (e) => {
    const name = (tls(e) as { servername?: string | false } | undefined)?.servername
    return typeof name === 'string' ? name : undefined
  },
  // plugins (set by jwt/key_auth/basic_auth, cache and limit; "-" without those plugins)
  consumer: (e) => stringVar(e.outcome.vars?.consumer),
  cache_status: (e) => stringVar(e.outcome.vars?.cache_status),
  rate_limit: (e) => {
    const v = e.outcome.vars?.rate_limit
    if (v === undefined || typeof v === 'string') return v
    return v.allowed ? `allowed ${v.remaining}` : 'refused'
  },
  tls_client_subject: (e) => verifiedClientSubject(e.socket),
  // gateway
  server: (e) => e.server,
  location: (e) => e.location,
  error: (e) => e.outcome.error,
  pid: () => process.pid,
}

/** `{>name}`: a request header (secrets redacted). */
export function requestHeader(name: string): LogGetter {
  const key = name.toLowerCase()
  if (SECRET_HEADERS.has(key)) return () => REDACTED
  return (e) => header(e, key)
}

/** `{<name}`: a response header (set-cookie redacted). */
export function responseHeader(name: string): LogGetter {
  const key = name.toLowerCase()
  if (SECRET_HEADERS.has(key)) return () => REDACTED
  return (e) => {
    // Proxied responses are written from a flat list Node does not expose through getHeader().
    const flat = e.outcome.responseHeaders
    if (flat !== undefined) {
      for (let i = 0; i < flat.length; i += 2) if ((flat[i] as string).toLowerCase() === key) return flat[i + 1]
      return undefined
    }
    const v = e.res.getHeader(key)
    return Array.isArray(v) ? v.join(', ') : v
  }
}

/** `{~name}`: one cookie of the request, parsed only when the format asks for it. */
export function cookie(name: string): LogGetter {
  const prefix = `${name}=`
  return (e) => {
    const jar = e.req.headers.cookie
    if (jar === undefined) return undefined
    for (const part of jar.split(';')) {
      const item = part.trimStart()
      if (item.startsWith(prefix)) return item.slice(prefix.length)
    }
    return undefined
  }
}

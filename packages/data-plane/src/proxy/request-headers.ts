import type { IncomingMessage } from 'node:http'
import type { HeaderEdits } from './header-edits.ts'
import { connectionTokens, HOP_BY_HOP } from './hop-by-hop.ts'

const FORWARDED = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-real-ip', 'via', 'host', 'forwarded'])

/** The Host of a request: the Host header, or HTTP/2's :authority. */
export function requestHost(req: IncomingMessage): string | undefined {
  return req.headers.host ?? (req.headers[':authority'] as string | undefined)
}

/** Per-request facts the upstream request headers are built from. */
export interface ForwardFacts {
  peer: string
  clientIp: string
  /** True when the socket peer is a trusted proxy, so its X-Forwarded-* are kept and extended. */
  peerTrusted: boolean
  scheme: 'http' | 'https'
  /** Host header to send upstream (the client's, or the location's upstream_host). */
  upstreamHost: string
  /** "1.1 name" or undefined when Via is off. */
  via: string | undefined
}

/**
 * The upstream request's headers as a flat [name, value, ...] list: the client's headers
 * minus hop-by-hop ones and the location's removals, then X-Forwarded-*, X-Real-IP, Via,
 * Host, and the location's set/add edits.
 */
export function buildRequestHeaders(req: IncomingMessage, facts: ForwardFacts, edits: HeaderEdits): string[] {
  const raw = req.rawHeaders
  const extraHop = connectionTokens(req.headers.connection)
  const out: string[] = []
  let xff: string | undefined
  let xfProto: string | undefined
  let xfHost: string | undefined
  let via: string | undefined
  let forwarded: string | undefined
  let te: string | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string
    // HTTP/2 pseudo-headers (:method, :path, :authority, :scheme) are not headers upstream.
    if (name.charCodeAt(0) === 58 /* : */) continue
    const lower = name.toLowerCase()
    const value = raw[i + 1] as string
    if (HOP_BY_HOP.has(lower) || extraHop?.has(lower)) {
      if (lower === 'te') te = value
      continue
    }
    if (FORWARDED.has(lower)) {
      if (lower === 'x-forwarded-for') xff = xff === undefined ? value : `${xff}, ${value}`
      else if (lower === 'x-forwarded-proto') xfProto ??= value
      else if (lower === 'x-forwarded-host') xfHost ??= value
      else if (lower === 'via') via = via === undefined ? value : `${via}, ${value}`
      else if (lower === 'forwarded') forwarded = forwarded === undefined ? value : `${forwarded}, ${value}`
      continue
    }
    if (edits.drop.has(lower)) continue
    out.push(name, value)
  }
  const trusted = facts.peerTrusted
  out.push('host', facts.upstreamHost)
  out.push('x-forwarded-for', trusted && xff !== undefined ? `${xff}, ${facts.peer}` : facts.peer)
  out.push('x-forwarded-proto', trusted && xfProto !== undefined ? xfProto : facts.scheme)
  out.push('x-forwarded-host', trusted && xfHost !== undefined ? xfHost : (requestHost(req) ?? ''))
  out.push('x-real-ip', facts.clientIp)
  // RFC 7239 Forwarded says the same as X-Forwarded-*: only a trusted proxy's reaches the upstream.
  if (trusted && forwarded !== undefined) out.push('forwarded', forwarded)
  if (facts.via !== undefined) out.push('via', via === undefined ? facts.via : `${via}, ${facts.via}`)
  else if (via !== undefined) out.push('via', via)
  // "TE: trailers" is the one TE value that must reach the upstream (gRPC relies on it).
  if (te !== undefined && /\btrailers\b/i.test(te)) out.push('te', 'trailers')
  for (let i = 0; i < edits.append.length; i++) out.push(edits.append[i] as string)
  return out
}

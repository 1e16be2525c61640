import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'
import type { TLSSocket } from 'node:tls'
import type { Dispatcher } from 'undici'
import { sendError } from '../error-response.ts'
import { type ErrorCode, GatewayError } from '../errors.ts'
import type { RouteRequest } from '../router/types.ts'
import type { LocationRuntime, ServerRuntime, Snapshot } from '../snapshot.ts'
import type { BalanceRequest } from '../upstream/types.ts'
import { BodyLimit, readBody } from './body-limit.ts'
import { isTrusted, resolveClientIp } from './client-ip.ts'
import { type ForwardOutcome, type ForwardPlan, forward } from './forward.ts'
import { normalizePath } from './normalize-path.ts'
import { buildRequestHeaders } from './request-headers.ts'

/** Called once per finished request, for logs and metrics. */
export type RequestObserver = (req: IncomingMessage, server: ServerRuntime, location: string | undefined, outcome: ForwardOutcome) => void

/**
 * Handles one client request on `server` of `snap`: route, limits, then forward. The caller
 * has already pinned `snap` (it is read once per request and kept to the end).
 */
export function handleRequest(
  snap: Snapshot,
  server: ServerRuntime,
  req: IncomingMessage,
  res: ServerResponse,
  observe: RequestObserver,
): void {
  const reject = (code: ErrorCode, location?: string) => {
    if (code === 'BODY_TOO_LARGE') res.setHeader('connection', 'close')
    sendError(req, res, code)
    observe(req, server, location, { status: res.statusCode, backend: undefined, attempts: 0, error: code, cause: undefined })
  }
  if (req.rawHeaders.length > server.maxHeaders * 2) {
    reject('HEADERS_TOO_LARGE')
    return
  }
  const routeReq = toRouteRequest(req)
  if (routeReq === undefined) {
    reject('BAD_REQUEST')
    return
  }
  const route = server.router.match(routeReq)
  if (route === undefined) {
    reject('NO_ROUTE')
    return
  }
  const loc = server.locations.get(route.name) as LocationRuntime
  const upstream = loc.upstream
  if (upstream === undefined) {
    reject('NO_UPSTREAM', loc.name)
    return
  }
  if (!upstream.hasAvailable()) {
    reject('NO_HEALTHY_BACKEND', loc.name)
    return
  }

  const contentLength = req.headers['content-length']
  const hasBody = req.headers['transfer-encoding'] !== undefined || (contentLength !== undefined && contentLength !== '0')
  if (hasBody && contentLength !== undefined && Number(contentLength) > loc.maxBodySize) {
    reject('BODY_TOO_LARGE', loc.name)
    return
  }

  const peer = peerAddress(req)
  const trusted = snap.trustedProxies
  const clientIp = resolveClientIp(peer, req.headers['x-forwarded-for'] as string | undefined, trusted)
  const headers = buildRequestHeaders(
    req,
    {
      peer,
      clientIp,
      peerTrusted: trusted !== undefined && isTrusted(trusted, peer),
      scheme: (req.socket as TLSSocket).encrypted ? 'https' : 'http',
      upstreamHost: loc.config.upstream_host ?? req.headers.host ?? '',
      via: snap.via,
    },
    loc.requestEdits,
  )
  const balance: BalanceRequest = { clientIp, headers: req.headers, query: routeReq.query }
  const buffered = hasBody && loc.config.buffer_request
  const plan: ForwardPlan = {
    req,
    res,
    upstream,
    method: req.method as Dispatcher.HttpMethod,
    path: route.rewrite(routeReq),
    headers,
    body: hasBody && !buffered ? bodyStream(req, contentLength, loc.maxBodySize) : null,
    // Only connect failures are retried, and then the upstream never saw the request, so any
    // method is safe; what cannot be replayed is a body stream already handed to undici.
    retryable: !hasBody || buffered,
    balance,
    responseEdits: loc.responseEdits,
    via: snap.via,
    onEnd: (outcome) => observe(req, server, loc.name, outcome),
  }
  if (!buffered) {
    forward(plan)
    return
  }
  readBody(req, loc.maxBodySize).then(
    (body) => {
      plan.body = body
      forward(plan)
    },
    (err: unknown) => reject(err instanceof GatewayError ? err.code : 'BAD_REQUEST', loc.name),
  )
}

/** The body to stream upstream: the request itself, or through a byte counter when chunked and limited. */
function bodyStream(req: IncomingMessage, contentLength: string | undefined, limit: number): Readable {
  return contentLength === undefined && Number.isFinite(limit) ? req.pipe(new BodyLimit(limit)) : req
}

/** Host, path, query and method of a request, or undefined when its target is malformed. */
function toRouteRequest(req: IncomingMessage): RouteRequest | undefined {
  let target = req.url ?? ''
  if (target.charCodeAt(0) !== 47 /* / */) {
    if (!/^https?:\/\//i.test(target)) return undefined
    try {
      const url = new URL(target)
      target = url.pathname + url.search
    } catch {
      return undefined
    }
  }
  const q = target.indexOf('?')
  const path = q < 0 ? target : target.slice(0, q)
  return {
    host: hostOnly(req.headers.host),
    path: normalizePath(path),
    query: q < 0 ? '' : target.slice(q + 1),
    method: req.method as string,
    headers: req.headers,
  }
}

function hostOnly(host: string | undefined): string {
  if (host === undefined) return ''
  if (host.charCodeAt(0) === 91 /* [ */) {
    const end = host.indexOf(']')
    return host.slice(0, end + 1).toLowerCase()
  }
  const colon = host.indexOf(':')
  return (colon < 0 ? host : host.slice(0, colon)).toLowerCase()
}

function peerAddress(req: IncomingMessage): string {
  const addr = req.socket.remoteAddress ?? ''
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr
}

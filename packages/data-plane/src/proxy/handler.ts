import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Http2ServerRequest } from 'node:http2'
import type { Readable } from 'node:stream'
import type { TLSSocket } from 'node:tls'
import type { Dispatcher } from 'undici'
import { sendError } from '../error-response.ts'
import { type ErrorCode, GatewayError } from '../errors.ts'
import { requestStart } from '../observability/request-start.ts'
import type { PluginChain } from '../plugins/chain.ts'
import { type ContextFacts, createRequestContext } from '../plugins/context.ts'
import {
  ChainHooks,
  type EndRequest,
  runLogPhase,
  runPreRoutePhase,
  runRequestPhase,
  runUpstreamRequestPhase,
  writeGatewayError,
} from '../plugins/run-chain.ts'
import type { RequestContext, RequestVars, UpstreamRequest } from '../plugins/types.ts'
import type { Route as RouteMatch, RouteRequest } from '../router/types.ts'
import type { LocationRuntime, ServerRuntime, Snapshot } from '../snapshot.ts'
import type { BalanceRequest } from '../upstream/types.ts'
import { BodyLimit, readBody } from './body-limit.ts'
import { clientClosed, isClientGone } from './client-gone.ts'
import { isTrusted, peerAddress, resolveClientIp } from './client-ip.ts'
import { type ForwardOutcome, type ForwardPlan, forward } from './forward.ts'
import { useGrpcWeb } from './grpc-web.ts'
import { isHttp2 } from './http2-request.ts'
import { headProblem } from './request-head.ts'
import { buildRequestHeaders, requestHost } from './request-headers.ts'
import { toRouteRequest } from './route-request.ts'
import { proxyWebSocket } from './websocket.ts'
import { isWebSocketHandshake } from './websocket-handshake.ts'

/** Called once per finished request, for logs and metrics. */
export type RequestObserver = (req: IncomingMessage, server: ServerRuntime, location: string | undefined, outcome: ForwardOutcome) => void

/**
 * Handles one client request on `server` of `snap`: route, plugins, limits, then forward. The
 * caller has already pinned `snap` (it is read once per request and kept to the end).
 */
export function handleRequest(
  snap: Snapshot,
  server: ServerRuntime,
  req: IncomingMessage,
  res: ServerResponse,
  observe: RequestObserver,
): void {
  const problem = headProblem(req, server)
  if (problem !== undefined) {
    rejectUnrouted(req, res, server, observe, problem)
    return
  }
  const routeReq = toRouteRequest(req, server.keepEncodedSlashes)
  if (routeReq === undefined) {
    rejectUnrouted(req, res, server, observe, 'BAD_REQUEST')
    return
  }
  const peer = peerAddress(req.socket)
  const clientIp = resolveClientIp(peer, req.headers['x-forwarded-for'] as string | undefined, snap.trustedProxies)
  if (server.plugins?.preRoute !== undefined) {
    preRouteThenServe(snap, server, req, res, { routeReq, peer, clientIp }, observe)
    return
  }
  serve(snap, server, req, res, routeReq, peer, clientIp, observe, undefined)
}

/** Routes the request, then runs its location's plugins and proxies it; `vars` were set by pre_route hooks. */
function serve(
  snap: Snapshot,
  server: ServerRuntime,
  req: IncomingMessage,
  res: ServerResponse,
  routeReq: RouteRequest,
  peer: string,
  clientIp: string,
  observe: RequestObserver,
  vars: RequestVars | undefined,
): void {
  const route = server.router.match(routeReq)
  if (route === undefined) {
    // A server's global plugins still run on a request no location takes (ping, redirect, ...).
    if (server.plugins === undefined) rejectUnrouted(req, res, server, observe, 'NO_ROUTE')
    else runGlobalsOnly(server.plugins, req, res, routeReq, clientIp, (o) => observe(req, server, undefined, o), vars)
    return
  }
  const loc = server.locations.get(route.name) as LocationRuntime
  const chain = loc.plugins
  if (chain === undefined) {
    proxy(snap, req, res, { loc, routeReq, route, peer, clientIp, end: (o) => observe(req, server, loc.name, o), plugins: undefined })
    return
  }
  const ctx = createRequestContext(req, contextFacts(req, routeReq, clientIp, loc.name, loc.maxBodySize, vars))
  const end: EndRequest = (o) => {
    o.vars = ctx.vars
    observe(req, server, loc.name, o)
    runLogPhase(chain, ctx, o)
  }
  const routed: Routed = { loc, routeReq, route, peer, clientIp, end, plugins: { chain, ctx } }
  runRequestPhase(chain, ctx, res, () => proxy(snap, req, res, routed), routed.end)
}

/**
 * Runs the server's global pre_route hooks before the router: one may answer (its reply goes
 * through the globals' response phases, then their log phase) or change the path routed.
 */
function preRouteThenServe(
  snap: Snapshot,
  server: ServerRuntime,
  req: IncomingMessage,
  res: ServerResponse,
  at: { routeReq: RouteRequest; peer: string; clientIp: string },
  observe: RequestObserver,
): void {
  const globals = server.plugins as PluginChain
  const ctx = createRequestContext(req, contextFacts(req, at.routeReq, at.clientIp, undefined, Number.POSITIVE_INFINITY))
  const end: EndRequest = (o) => {
    o.vars = ctx.vars
    observe(req, server, undefined, o)
    runLogPhase(globals, ctx, o)
  }
  const path = runPreRoutePhase(globals, ctx, res, end)
  if (path === false) return
  at.routeReq.path = path
  serve(snap, server, req, res, at.routeReq, at.peer, at.clientIp, observe, ctx.vars)
}

/** A routed request on its way upstream. */
interface Routed {
  loc: LocationRuntime
  routeReq: RouteRequest
  route: RouteMatch
  peer: string
  clientIp: string
  /** Ends the request: observer, then the plugins' log phase. */
  end: EndRequest
  plugins: { chain: PluginChain; ctx: RequestContext } | undefined
}

/** Upstream checks, body limits, upstream headers (and the plugins' upstream_request phase), then forward. */
function proxy(snap: Snapshot, req: IncomingMessage, res: ServerResponse, routed: Routed): void {
  const { loc, routeReq, route, peer, clientIp, end, plugins } = routed
  const upstream = loc.upstream
  if (upstream === undefined) {
    rejectRouted(req, res, routed, 'NO_UPSTREAM')
    return
  }
  if (!upstream.hasAvailable()) {
    rejectRouted(req, res, routed, 'NO_HEALTHY_BACKEND')
    return
  }

  const maxBody = plugins?.ctx.bodyLimit ?? loc.maxBodySize
  const contentLength = req.headers['content-length']
  const hasBody =
    req.headers['transfer-encoding'] !== undefined ||
    (contentLength !== undefined && contentLength !== '0') ||
    // HTTP/2 has no Transfer-Encoding: a body follows unless the HEADERS frame ended the stream.
    (isHttp2(req) && !(req as unknown as Http2ServerRequest).stream.endAfterHeaders)
  if (hasBody && contentLength !== undefined && Number(contentLength) > maxBody) {
    rejectRouted(req, res, routed, 'BODY_TOO_LARGE')
    return
  }

  const trusted = snap.trustedProxies
  const upstreamRequest: UpstreamRequest = {
    path: route.rewrite(routeReq),
    headers: buildRequestHeaders(
      req,
      {
        peer,
        clientIp,
        peerTrusted: trusted !== undefined && isTrusted(trusted, peer),
        scheme: schemeOf(req),
        upstreamHost: loc.config.upstream_host ?? requestHost(req) ?? '',
        via: snap.via,
      },
      loc.requestEdits,
    ),
  }
  if (plugins !== undefined && !runUpstreamRequestPhase(plugins.chain, plugins.ctx, upstreamRequest, res, end)) return
  const requestId = plugins?.ctx.vars.request_id
  const hooks = plugins === undefined ? undefined : new ChainHooks(plugins.chain, plugins.ctx, res)
  if (isWebSocketHandshake(req, res)) {
    proxyWebSocket({
      req,
      res,
      upstream,
      path: upstreamRequest.path,
      headers: upstreamRequest.headers,
      balance: { clientIp, headers: req.headers, query: routeReq.query },
      responseEdits: loc.responseEdits,
      via: snap.via,
      idleTimeoutMs: loc.websocketIdleTimeoutMs,
      onEnd: end,
      requestId,
      hooks,
    })
    return
  }
  const balance: BalanceRequest = { clientIp, headers: req.headers, query: routeReq.query }
  const buffered = hasBody && loc.config.buffer_request
  const plan: ForwardPlan = {
    req,
    res,
    upstream,
    method: req.method as Dispatcher.HttpMethod,
    path: upstreamRequest.path,
    headers: upstreamRequest.headers,
    body: hasBody && !buffered ? bodyStream(req, contentLength, maxBody) : null,
    // Only connect failures are retried, and then the upstream never saw the request, so any
    // method is safe; what cannot be replayed is a body stream already handed to undici.
    retryable: !hasBody || buffered,
    balance,
    responseEdits: loc.responseEdits,
    via: snap.via,
    onEnd: end,
    serverTiming: loc.config.server_timing ? requestStart(req) : undefined,
    requestId,
    grpc: isHttp2(req) && req.headers['content-type']?.startsWith('application/grpc') === true,
    hooks,
  }
  // gRPC-web is translated as it streams, never buffered (one check for every other location).
  if (
    loc.config.grpc_web &&
    useGrpcWeb(plan, hasBody ? ((plan.body as Readable | null) ?? bodyStream(req, contentLength, maxBody)) : null)
  ) {
    forward(plan)
    return
  }
  if (!buffered) {
    forward(plan)
    return
  }
  readBody(req, maxBody).then(
    (body) => {
      plan.body = body
      forward(plan)
    },
    (err: unknown) => {
      // A client gone mid-body is no bad request: nothing can be answered, and no backend saw it.
      if (isClientGone(res)) routed.end(clientClosed(err))
      else rejectRouted(req, res, routed, err instanceof GatewayError ? err.code : 'BAD_REQUEST')
    },
  )
}

/** Answers a gateway error for a routed request: through its plugins' response hooks, if it has any. */
function rejectRouted(req: IncomingMessage, res: ServerResponse, routed: Routed, code: ErrorCode): void {
  const { plugins, end } = routed
  if (plugins === undefined) rejectWith(req, res, code, end)
  else rejectThroughChain(plugins.chain, plugins.ctx, res, code, end)
}

/** Answers a gateway error for a request no location took. */
function rejectUnrouted(req: IncomingMessage, res: ServerResponse, server: ServerRuntime, observe: RequestObserver, code: ErrorCode): void {
  rejectWith(req, res, code, (o) => observe(req, server, undefined, o))
}

/** Answers a gateway error and ends the request. */
function rejectWith(req: IncomingMessage, res: ServerResponse, code: ErrorCode, end: EndRequest): void {
  if (code === 'BODY_TOO_LARGE' || code === 'HTTP_VERSION_NOT_SUPPORTED') res.setHeader('connection', 'close')
  const bodyBytes = sendError(req, res, code)
  end({ status: res.statusCode, backend: undefined, attempts: 0, error: code, cause: undefined, bodyBytes })
}

/** Answers a gateway error through the plugins' response hooks (CORS, security headers, a stale cache entry) and ends the request. */
function rejectThroughChain(chain: PluginChain, ctx: RequestContext, res: ServerResponse, code: ErrorCode, end: EndRequest): void {
  if (code === 'BODY_TOO_LARGE') res.setHeader('connection', 'close')
  writeGatewayError(chain, ctx, res, code, (bodyBytes) =>
    end({ status: res.statusCode, backend: undefined, attempts: 0, error: code, cause: undefined, bodyBytes }),
  )
}

/** Runs a server's global plugins on a request no location matched; 404 when none of them answers. */
function runGlobalsOnly(
  chain: PluginChain,
  req: IncomingMessage,
  res: ServerResponse,
  routeReq: RouteRequest,
  clientIp: string,
  observe: EndRequest,
  vars: RequestVars | undefined,
): void {
  const ctx = createRequestContext(req, contextFacts(req, routeReq, clientIp, undefined, Number.POSITIVE_INFINITY, vars))
  const end: EndRequest = (o) => {
    o.vars = ctx.vars
    observe(o)
    runLogPhase(chain, ctx, o)
  }
  runRequestPhase(chain, ctx, res, () => rejectThroughChain(chain, ctx, res, 'NO_ROUTE', end), end)
}

function contextFacts(
  req: IncomingMessage,
  routeReq: RouteRequest,
  clientIp: string,
  location: string | undefined,
  bodyLimit: number,
  vars?: RequestVars,
): ContextFacts {
  return { host: routeReq.host, path: routeReq.path, query: routeReq.query, scheme: schemeOf(req), clientIp, location, bodyLimit, vars }
}

function schemeOf(req: IncomingMessage): 'http' | 'https' {
  return (req.socket as TLSSocket).encrypted ? 'https' : 'http'
}

/**
 * The body to stream upstream: the request itself, or through a byte counter when chunked and
 * limited (pipe() does not pass a source's error on: the counter is failed with it, so that the
 * exchange learns the client's body broke).
 */
function bodyStream(req: IncomingMessage, contentLength: string | undefined, limit: number): Readable {
  if (contentLength !== undefined || !Number.isFinite(limit)) return req
  const counter = new BodyLimit(limit)
  req.once('error', (err) => counter.destroy(err))
  return req.pipe(counter)
}

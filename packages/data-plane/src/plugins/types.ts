import type { IncomingMessage } from 'node:http'
import type { Duplex, Readable, Writable } from 'node:stream'
import type { CachePurgeTarget, PluginConfigOf, PluginSchema } from '@fleetgate/schema'
import type { Logger } from 'pino'
import type { ForwardOutcome } from '../proxy/forward.ts'
import type { TakeResult } from './token-buckets.ts'

/**
 * Per-request variables: plugins write them, later plugins and the access log read them
 * (see requestVars). Known names are typed; plugins may add their own.
 */
export interface RequestVars {
  request_id?: string
  /** Who the request authenticated as (key_auth, basic_auth, jwt). */
  consumer?: string
  /** The plugin that answered the request itself, when one did. */
  answered_by?: string
  /** limit: the bucket's verdict (the access log shows "allowed N" or "refused"), or "refused inflight". */
  rate_limit?: TakeResult | 'refused inflight'
  /** What the cache did: HIT, MISS, REVALIDATED or STALE (the X-Cache value). */
  cache_status?: string
  [name: string]: unknown
}

/** What plugins see of a request. Built once per request, only on locations with plugins. */
export interface RequestContext {
  readonly req: IncomingMessage
  readonly method: string
  /** Host without port, lower-cased. */
  readonly host: string
  /** The normalized path, as routed (after pre_route rewrites, before the location's rewrite). */
  readonly path: string
  /** The raw query string, without "?". */
  readonly query: string
  readonly scheme: 'http' | 'https'
  /** The client address, after basic.trusted_proxies. */
  readonly clientIp: string
  /** The matched location; undefined when only a server's global plugins run (no route matched). */
  readonly location: string | undefined
  readonly vars: RequestVars
  /** Largest body accepted in bytes; a plugin may lower it, the body stream is cut past it (413). */
  bodyLimit: number
  /** A request header by lower-case name (several values joined by ", "). */
  header(name: string): string | undefined
  /** A query parameter (first value, decoded). */
  queryParam(name: string): string | undefined
  /** A cookie by name. */
  cookie(name: string): string | undefined
}

/** A response a plugin answers with instead of the upstream. */
export interface PluginReply {
  status: number
  headers?: Readonly<Record<string, string | readonly string[]>>
  body?: string | Buffer
}

/** The request going upstream: its headers as a flat [name, value, ...] list, and its path. */
export interface UpstreamRequest {
  headers: string[]
  path: string
}

/** The response head about to be written to the client; `headers` is a flat [name, value, ...] list. */
export interface ResponseHead {
  status: number
  headers: string[]
}

/**
 * A response body on its way through the response_body phase's transforms: the body is written
 * to `input` (with backpressure) and what comes out of `output` goes to the client. One
 * transform is both; several are piped in priority order.
 */
export interface BodyPipeline {
  readonly input: Writable
  readonly output: Readable
}

/** A hook's answer: nothing to continue, a reply to stop. */
export type HookResult = PluginReply | undefined

/** A pre_route hook's answer: nothing to continue, a reply to stop, or the path the router is to see. */
export type PreRouteResult = PluginReply | { readonly path: string } | undefined

/**
 * The hooks of one plugin instance. The phases are a closed set (see docs/plugins.md):
 * - pre_route: a server's global plugins only, before the router matches (ctx.location is
 *   undefined); `path` is what the router will see (after earlier pre_route rewrites). May
 *   answer, or return `{ path }` to route (and proxy) the request as that path. Synchronous.
 * - request: after routing, before anything goes upstream; may answer (sync or async).
 * - upstream_request: edit the upstream request's headers and path.
 * - response_body: on a response that may have a body (not HEAD, 1xx, 204), before the
 *   response hooks: may edit the head (as the upstream, the replying plugin or the gateway's
 *   error made it) and return a Transform the body streams through (compression, a cache tee);
 *   a plugin that does not return one costs the body nothing. A 304 reaches it too: leave it
 *   alone, unless turning it into a full response (the cache does, on revalidation).
 * - response: edit the status and headers of any response (upstream's or a plugin's) before they are written.
 * - log: once, when the request has ended, whatever the outcome.
 */
export interface PluginHooks {
  pre_route?(ctx: RequestContext, path: string): PreRouteResult
  request?(ctx: RequestContext): HookResult | Promise<HookResult>
  upstream_request?(ctx: RequestContext, upstream: UpstreamRequest): void
  response_body?(ctx: RequestContext, head: ResponseHead): Duplex | undefined
  response?(ctx: RequestContext, head: ResponseHead): void
  log?(ctx: RequestContext, outcome: ForwardOutcome): void
}

/** A phase name; a misspelt one does not compile. */
export type Phase = keyof PluginHooks

/**
 * Operations an instance offers outside the request path, called by the data plane itself
 * (the fleet's cache purges), never per request. Each is optional: a plugin offers what fits.
 */
export interface PluginCapabilities {
  /** Drops the cached responses of `target` (see CachePurgeTarget); returns how many went. */
  purge?(target: CachePurgeTarget): number
}

/** What a plugin's factory returns: its hooks, and optionally its capabilities. */
export type PluginParts = PluginHooks & { readonly capabilities?: PluginCapabilities }

/** What a plugin instance gets besides its config. */
export interface PluginEnv {
  /** The instance's name (`[plugins.NAME]`). */
  name: string
  logger: Logger
  /** Aborted when the instance is retired (its snapshot retired and no newer one reuses it): stop timers here. */
  signal: AbortSignal
}

/** A plugin type: name (= its config `type`), unique priority (higher runs first), schema and factory. */
export interface PluginDefinition<S extends PluginSchema = PluginSchema> {
  readonly name: string
  readonly priority: number
  readonly schema: S
  /** Run once per instance and snapshot, never per request. Throws on a config it cannot use. */
  create(config: PluginConfigOf<S>, env: PluginEnv): PluginParts
}

/** Declares a plugin type; config in `create` is typed from the schema. */
export function definePlugin<S extends PluginSchema>(definition: PluginDefinition<S>): PluginDefinition<S> {
  return definition
}

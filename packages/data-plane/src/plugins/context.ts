import type { IncomingMessage } from 'node:http'
import { queryParam } from './query-param.ts'
import type { RequestContext, RequestVars } from './types.ts'

/** The facts a request context is built from (the handler has them after routing). */
export interface ContextFacts {
  host: string
  path: string
  query: string
  scheme: 'http' | 'https'
  clientIp: string
  location: string | undefined
  bodyLimit: number
  /** Variables already set on this request (by pre_route hooks), kept for the later phases. */
  vars?: RequestVars | undefined
}

// A symbol property rather than a WeakMap: ephemeron entries per request are a GC cost.
const VARS = Symbol('fleetgate.requestVars')
type WithVars = IncomingMessage & { [VARS]?: RequestVars }

/**
 * The variables plugins set on `req` (request id, consumer, ...), for access logs and metrics;
 * undefined when no plugin ran on the request.
 */
export function requestVars(req: IncomingMessage): Readonly<RequestVars> | undefined {
  return (req as WithVars)[VARS]
}

/**
 * What plugins see of a request: one object per request, its methods on the prototype (a
 * closure per method and request would be three more objects for the collector); query
 * parameters are found on demand, cookies parsed on first use.
 */
class PluginRequestContext implements RequestContext {
  readonly req: IncomingMessage
  readonly method: string
  readonly host: string
  readonly path: string
  readonly query: string
  readonly scheme: 'http' | 'https'
  readonly clientIp: string
  readonly location: string | undefined
  readonly vars: RequestVars
  bodyLimit: number
  #cookies: Map<string, string> | undefined

  constructor(req: IncomingMessage, facts: ContextFacts, vars: RequestVars) {
    this.req = req
    this.method = req.method as string
    this.host = facts.host
    this.path = facts.path
    this.query = facts.query
    this.scheme = facts.scheme
    this.clientIp = facts.clientIp
    this.location = facts.location
    this.vars = vars
    this.bodyLimit = facts.bodyLimit
  }

  header(name: string): string | undefined {
    const value = this.req.headers[name]
    return Array.isArray(value) ? value.join(', ') : value
  }

  queryParam(name: string): string | undefined {
    return this.query === '' ? undefined : queryParam(this.query, name)
  }

  cookie(name: string): string | undefined {
    this.#cookies ??= parseCookies(this.req.headers.cookie)
    return this.#cookies.get(name)
  }
}

/** Builds the context plugins see, and keeps its variables on `req` for the access log. */
export function createRequestContext(req: IncomingMessage, facts: ContextFacts): RequestContext {
  const vars: RequestVars = facts.vars ?? {}
  ;(req as WithVars)[VARS] = vars
  return new PluginRequestContext(req, facts, vars)
}

function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>()
  if (header === undefined) return out
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    const name = part.slice(0, eq).trim()
    if (!out.has(name)) out.set(name, part.slice(eq + 1).trim())
  }
  return out
}

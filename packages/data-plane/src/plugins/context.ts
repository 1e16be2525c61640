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

/** Builds the context plugins see; query parameters are found on demand, cookies parsed on first use. */
export function createRequestContext(req: IncomingMessage, facts: ContextFacts): RequestContext {
  const vars: RequestVars = facts.vars ?? {}
  ;(req as WithVars)[VARS] = vars
  let cookies: Map<string, string> | undefined
  return {
    req,
    method: req.method as string,
    host: facts.host,
    path: facts.path,
    query: facts.query,
    scheme: facts.scheme,
    clientIp: facts.clientIp,
    location: facts.location,
    vars,
    bodyLimit: facts.bodyLimit,
    header(name) {
      const value = req.headers[name]
      return Array.isArray(value) ? value.join(', ') : value
    },
    queryParam(name) {
      return facts.query === '' ? undefined : queryParam(facts.query, name)
    },
    cookie(name) {
      cookies ??= parseCookies(req.headers.cookie)
      return cookies.get(name)
    },
  }
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

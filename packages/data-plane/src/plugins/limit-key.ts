import type { RequestContext } from './types.ts'

/** Reads a request's limit key; requests without the header, cookie, query or consumer share the key "". */
export type LimitKey = (ctx: RequestContext) => string

/** Compiles `key`: ip | header:NAME | cookie:NAME | query:NAME | consumer. */
export function compileLimitKey(spec: string): LimitKey {
  if (spec === 'ip') return (ctx) => ctx.clientIp
  if (spec === 'consumer') return (ctx) => ctx.vars.consumer ?? ''
  const colon = spec.indexOf(':')
  const kind = spec.slice(0, colon)
  const name = spec.slice(colon + 1)
  if (kind === 'header') {
    const lower = name.toLowerCase()
    return (ctx) => ctx.header(lower) ?? ''
  }
  if (kind === 'cookie') return (ctx) => ctx.cookie(name) ?? ''
  if (kind === 'query') return (ctx) => ctx.queryParam(name) ?? ''
  throw new Error(`key: expected ip | header:NAME | cookie:NAME | query:NAME | consumer, got "${spec}"`)
}

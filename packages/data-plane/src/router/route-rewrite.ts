import type { PathPattern } from '@fleetgate/schema'
import { parseRewrite } from '@fleetgate/schema/runtime'
import type { RouteRequest } from './types.ts'

/** Builds the upstream path, with "?query" appended when the request had one. */
export type RewriteFn = (req: RouteRequest) => string

/**
 * Compiles a location's `rewrite` once, so a request only slices and joins strings:
 * - none: path and query unchanged;
 * - "/x" on a prefix location: the matched prefix becomes "/x", without doubling "/"
 *   ("/api/v1" + "/" turns "/api/v1/users" into "/users" and "/api/v1" into "/");
 * - "/x" on an exact or regex location: the whole path becomes "/x";
 * - "REGEX REPLACEMENT": the first match in the path is replaced ($1, $<name>).
 * The original query string is always kept (joined with "&" when the new path has one).
 */
export function compileRewrite(path: PathPattern, rewrite: string | undefined): RewriteFn {
  if (rewrite === undefined) return (req) => withQuery(req.path, req.query, false)
  const spec = parseRewrite(rewrite)
  if (spec.kind === 'regex') {
    const { regex, replacement } = spec
    const hasQuery = replacement.includes('?')
    return (req) => withQuery(req.path.replace(regex, replacement), req.query, hasQuery)
  }
  const target = spec.replacement.startsWith('/') ? spec.replacement : `/${spec.replacement}`
  const hasQuery = target.includes('?')
  if (path.kind !== 'prefix') return (req) => withQuery(target, req.query, hasQuery)
  return replacePrefix(path.prefix.length, target, hasQuery)
}

function replacePrefix(cut: number, target: string, hasQuery: boolean): RewriteFn {
  // With a trailing "/" in the target, a rest starting with "/" would give "//".
  const trimmed = target.endsWith('/') ? target.slice(0, -1) : undefined
  return (req) => {
    const rest = req.path.slice(cut)
    const joined = rest === '' ? target : trimmed !== undefined && rest.charCodeAt(0) === 0x2f ? trimmed + rest : target + rest
    return withQuery(joined, req.query, hasQuery)
  }
}

function withQuery(path: string, query: string, pathHasQuery: boolean): string {
  if (query === '') return path
  return `${path}${pathHasQuery ? '&' : '?'}${query}`
}

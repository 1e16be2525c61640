import type { IncomingHttpHeaders } from 'node:http'
import type { LocationConfig, NameValue } from '@fleetgate/schema'
import { parseNameValue } from '@fleetgate/schema/runtime'
import { hasQueryParam } from './query-param.ts'
import type { RouteRequest } from './types.ts'

/** Whether a request meets a location's conditions other than host and path. */
export type RequestCondition = (req: RouteRequest) => boolean

const acceptAll: RequestCondition = () => true

/**
 * Compiles `methods` (empty = any), `match_headers` (names case-insensitive) and
 * `match_query` ("name:value" exact, "name" presence) into one check, parsed once.
 */
export function compileConditions(config: LocationConfig): RequestCondition {
  const methods = config.methods
  const headers = config.match_headers.map((spec) => parseNameValue(spec, true))
  const query = config.match_query.map((spec) => parseNameValue(spec, false))
  if (methods.length === 0 && headers.length === 0 && query.length === 0) return acceptAll
  return (req) =>
    (methods.length === 0 || methods.includes(req.method)) && headersMatch(req.headers, headers) && queryMatches(req.query, query)
}

function headersMatch(headers: IncomingHttpHeaders, wanted: readonly NameValue[]): boolean {
  for (let i = 0; i < wanted.length; i++) {
    if (!headerMatches(headers[(wanted[i] as NameValue).name], (wanted[i] as NameValue).value)) return false
  }
  return true
}

function headerMatches(actual: string | string[] | undefined, value: string | undefined): boolean {
  if (actual === undefined) return false
  if (value === undefined) return true
  return typeof actual === 'string' ? actual === value : actual.includes(value)
}

function queryMatches(query: string, wanted: readonly NameValue[]): boolean {
  for (let i = 0; i < wanted.length; i++) {
    const { name, value } = wanted[i] as NameValue
    if (!hasQueryParam(query, name, value)) return false
  }
  return true
}

import type { IncomingHttpHeaders } from 'node:http'
import { validateConfig } from '@fleetgate/schema'
import type { RouteRequest, Router } from '../../src/router/index.ts'
import { compileRouter } from '../../src/router/index.ts'

/** A router compiled from `[locations.NAME]` tables, validated by the real schema (defaults applied). */
export function routerFor(locations: Record<string, Record<string, unknown>>): Router {
  const result = validateConfig({ locations })
  if (!result.ok) throw new Error(`invalid test locations: ${JSON.stringify(result.errors)}`)
  return compileRouter(Object.entries(result.config.locations).map(([name, config]) => ({ name, config })))
}

/** A routing request for "host" and "/path?query", as the proxy builds it. */
export function request(host: string, target: string, method = 'GET', headers: IncomingHttpHeaders = {}): RouteRequest {
  const q = target.indexOf('?')
  return {
    host,
    path: q < 0 ? target : target.slice(0, q),
    query: q < 0 ? '' : target.slice(q + 1),
    method,
    headers,
  }
}

import type { IncomingHttpHeaders } from 'node:http'
import type { LocationConfig } from '@fleetgate/schema'

/** The parts of a request routing looks at, computed once per request. */
export interface RouteRequest {
  /** Host without port, lower-case ("" when absent). */
  host: string
  /**
   * Path without the query string, normalized (proxy/normalize-path.ts): unreserved escapes
   * decoded, other escapes with upper-case hex, slashes merged, dot segments removed. Every
   * path kind (exact, prefix, regex) and `rewrite` work on this form, and it is what is sent
   * upstream.
   */
  path: string
  /** Raw query string without "?" ("" when none). */
  query: string
  method: string
  headers: IncomingHttpHeaders
}

/** One location compiled for matching: everything per-request work needs, prepared once. */
export interface Route {
  readonly name: string
  readonly config: LocationConfig
  /**
   * The upstream path (with "?query" appended when the request had one) after this
   * location's rewrite; the original path and query when there is no rewrite.
   */
  rewrite(req: RouteRequest): string
}

/** Routes of one server, compiled into indexes once per snapshot. */
export interface Router {
  /** The best route for the request, or undefined (404). */
  match(req: RouteRequest): Route | undefined
}

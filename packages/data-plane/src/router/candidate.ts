import type { HostPattern, LocationConfig, PathPattern } from '@fleetgate/schema'
import { parseHostPattern, parsePathPattern } from '@fleetgate/schema/runtime'
import { normalizePath } from '../proxy/normalize-path.ts'
import { compileConditions, type RequestCondition } from './request-conditions.ts'
import { compileRewrite } from './route-rewrite.ts'
import type { Route } from './types.ts'

/** One location as the indexes hold it: its route plus what matching still has to test. */
export interface Candidate {
  readonly route: Route
  /** Host patterns; empty means any host. */
  readonly hosts: readonly HostPattern[]
  readonly path: PathPattern
  /** Set for regex paths, tested per request after host and path kind are known. */
  readonly pathRegex: RegExp | undefined
  /** Whether `priority` was configured (such candidates beat all others). */
  readonly hasPriority: boolean
  readonly priority: number
  readonly accepts: RequestCondition
}

/** Parses one location's matchers and rewrite once; throws on invalid patterns. */
export function compileCandidate(name: string, config: LocationConfig): Candidate {
  const path = normalizePattern(parsePathPattern(config.path))
  const hostList = config.host === undefined ? [] : typeof config.host === 'string' ? [config.host] : config.host
  const route: Route = { name, config, rewrite: compileRewrite(path, config.rewrite) }
  return {
    route,
    hosts: hostList.map(parseHostPattern),
    path,
    pathRegex: path.kind === 'regex' ? path.regex : undefined,
    hasPriority: config.priority !== undefined,
    priority: config.priority ?? 0,
    accepts: compileConditions(config),
  }
}

/**
 * Requests are matched on their normalized path, so exact and prefix paths are normalized the
 * same way: "/caf%c3%a9" or "/%61pi" would otherwise never match (and a request spelt another
 * way could miss a location and fall through to a catch-all). Regexes see the normalized path.
 */
function normalizePattern(path: PathPattern): PathPattern {
  if (path.kind === 'exact') return { kind: 'exact', path: normalizePath(path.path) }
  if (path.kind === 'prefix') return { kind: 'prefix', prefix: normalizePath(path.prefix) }
  return path
}

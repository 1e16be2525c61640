import type { HostPattern, LocationConfig, PathPattern } from '@fleetgate/schema'
import { parseHostPattern, parsePathPattern } from '@fleetgate/schema/runtime'
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
  const path = parsePathPattern(config.path)
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

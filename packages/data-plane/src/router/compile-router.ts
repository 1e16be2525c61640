import type { LocationConfig } from '@fleetgate/schema'
import { compileCandidate } from './candidate.ts'
import { createHostIndex } from './host-index.ts'
import { addToPathIndex, createPathIndex } from './path-index.ts'
import { type HostBucket, selectCandidate } from './route-selection.ts'
import type { Router } from './types.ts'

/**
 * Compiles one server's locations (validated, defaults applied, in config order) into
 * host and path indexes, once per snapshot. Precedence: an explicit `priority` beats none
 * (higher first); otherwise exact path > longest prefix > regex (config order), and for
 * the same path kind a specific host (exact, wildcard by longer suffix, regex) beats none.
 * Throws when a pattern does not parse (validation should have caught it).
 */
export function compileRouter(locations: ReadonlyArray<{ name: string; config: LocationConfig }>): Router {
  const builder = createRouterBuilder()
  for (const { name, config } of locations) builder.add(name, config)
  return builder.build()
}

/** Builds a router one location at a time (in config order), so a big config can be compiled in steps. */
export interface RouterBuilder {
  add(name: string, config: LocationConfig): void
  build(): Router
}

/** A RouterBuilder; see compileRouter for the precedence rules. */
export function createRouterBuilder(): RouterBuilder {
  const hosts = createHostIndex<HostBucket>(() => ({ prioritized: createPathIndex(), ordinary: createPathIndex() }))
  let hasPriority = false
  return {
    add(name, config) {
      const candidate = compileCandidate(name, config)
      hasPriority ||= candidate.hasPriority
      const patterns = candidate.hosts.length === 0 ? [undefined] : candidate.hosts
      for (const pattern of patterns) {
        const bucket = hosts.bucketFor(pattern)
        addToPathIndex(candidate.hasPriority ? bucket.prioritized : bucket.ordinary, candidate)
      }
    },
    build() {
      // Reused by every lookup: match() is synchronous, so one scratch list per router is safe.
      const scratch: HostBucket[] = new Array<HostBucket>(hosts.maxBuckets())
      const prioritized = hasPriority
      return {
        match(req) {
          const count = hosts.collect(req.host, scratch)
          const chosen =
            (prioritized ? selectCandidate(scratch, count, 'prioritized', req, 'best') : undefined) ??
            selectCandidate(scratch, count, 'ordinary', req, 'first')
          return chosen?.route
        },
      }
    },
  }
}

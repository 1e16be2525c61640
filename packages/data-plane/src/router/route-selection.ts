import type { Candidate } from './candidate.ts'
import type { PathIndex } from './path-index.ts'
import type { PrefixNode } from './prefix-tree.ts'
import type { RouteRequest } from './types.ts'

/** The locations of one host pattern: those with an explicit priority apart from the rest. */
export interface HostBucket {
  readonly prioritized: PathIndex
  readonly ordinary: PathIndex
}

/** Which candidate a walk returns: the first one accepting the request, or the highest priority. */
export type SelectionMode = 'first' | 'best'

/**
 * Walks the matching host buckets in precedence order: exact paths, then prefixes longest
 * first, then regex paths; within each path kind, buckets in host order (specific hosts
 * before any-host). A candidate failing its conditions is passed over for the next one.
 * In 'best' mode the whole walk runs and the highest priority wins, the earliest in that
 * order on ties.
 */
export function selectCandidate(
  buckets: readonly HostBucket[],
  count: number,
  tier: keyof HostBucket,
  req: RouteRequest,
  mode: SelectionMode,
): Candidate | undefined {
  let found: Candidate | undefined
  for (let b = 0; b < count; b++) {
    const list = (buckets[b] as HostBucket)[tier].exact.get(req.path)
    if (list !== undefined) found = consider(list, req, found, mode, false)
    if (found !== undefined && mode === 'first') return found
  }
  for (let b = 0; b < count; b++) {
    let node: PrefixNode<Candidate> | undefined = (buckets[b] as HostBucket)[tier].prefixes.deepest(req.path)
    for (; node !== undefined; node = node.parent) {
      if (node.values.length > 0) found = consider(node.values, req, found, mode, false)
      if (found !== undefined && mode === 'first') return found
    }
  }
  for (let b = 0; b < count; b++) {
    found = consider((buckets[b] as HostBucket)[tier].regexes, req, found, mode, true)
    if (found !== undefined && mode === 'first') return found
  }
  return found
}

function consider(
  list: readonly Candidate[],
  req: RouteRequest,
  found: Candidate | undefined,
  mode: SelectionMode,
  testPath: boolean,
): Candidate | undefined {
  for (let i = 0; i < list.length; i++) {
    const c = list[i] as Candidate
    if (testPath && !(c.pathRegex as RegExp).test(req.path)) continue
    if (!c.accepts(req)) continue
    if (mode === 'first') return c
    if (found === undefined || c.priority > found.priority) found = c
  }
  return found
}

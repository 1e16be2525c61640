import type { Candidate } from './candidate.ts'
import { createPrefixTree, type PrefixTree } from './prefix-tree.ts'

/** The locations of one host bucket, indexed by path kind. */
export interface PathIndex {
  /** "=/exact" paths; several locations may share one path (told apart by conditions). */
  readonly exact: Map<string, Candidate[]>
  /** Prefix paths, longest first on lookup; "" sits at the root. */
  readonly prefixes: PrefixTree<Candidate>
  /** Regex paths in config order. */
  readonly regexes: Candidate[]
}

/** Creates an empty path index. */
export function createPathIndex(): PathIndex {
  return { exact: new Map(), prefixes: createPrefixTree(), regexes: [] }
}

/** Adds a candidate under its path pattern; call in config order. */
export function addToPathIndex(index: PathIndex, candidate: Candidate): void {
  const path = candidate.path
  if (path.kind === 'exact') {
    const list = index.exact.get(path.path)
    if (list === undefined) index.exact.set(path.path, [candidate])
    else list.push(candidate)
  } else if (path.kind === 'prefix') {
    index.prefixes.insert(path.prefix, candidate)
  } else {
    index.regexes.push(candidate)
  }
}

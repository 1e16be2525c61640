import { compileRegex } from '@fleetgate/schema/runtime'

/** Decides whether an Origin is allowed; compiled once from cors.allow_origins. */
export interface OriginMatcher {
  /** True when every origin is allowed ("*"). */
  readonly any: boolean
  matches(origin: string): boolean
}

/**
 * Compiles origin entries: "*" (any), an exact origin ("https://app.example.com", compared
 * case-insensitively), a pattern where "*" stands for one or more DNS labels
 * ("https://*.example.com"), or "~regex" (tested as written: anchor it). The origin "null"
 * matches only "*" or an exact "null" entry, never a pattern.
 */
export function compileOriginMatcher(entries: readonly string[]): OriginMatcher {
  const exact = new Set<string>()
  const patterns: RegExp[] = []
  let any = false
  for (const entry of entries) {
    if (entry === '*') any = true
    else if (entry.startsWith('~')) patterns.push(compileRegex(entry.slice(1), ''))
    else if (entry.includes('*')) patterns.push(wildcard(entry))
    else exact.add(entry.toLowerCase().replace(/\/$/, ''))
  }
  // "null" (sandboxed iframes, file: and data: documents) is an opaque origin any site can
  // produce: only an explicit "null" entry (or "*", answered with "*", never echoed) allows it.
  return {
    any,
    matches: (origin) => any || exact.has(origin.toLowerCase()) || (origin !== 'null' && patterns.some((p) => p.test(origin))),
  }
}

function wildcard(pattern: string): RegExp {
  const source = pattern
    .toLowerCase()
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('[a-z0-9-]+(?:\\.[a-z0-9-]+)*')
  return new RegExp(`^${source}$`, 'i')
}

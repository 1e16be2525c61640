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
 * ("https://*.example.com"), or "~regex" (tested as written: anchor it).
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
  return {
    any,
    matches: (origin) => any || exact.has(origin.toLowerCase()) || patterns.some((p) => p.test(origin)),
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

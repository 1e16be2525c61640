import { compileRegex } from '@fleetgate/schema/runtime'

/** A compiled list of patterns a request value is tested against. */
export type TextMatcher = (value: string) => boolean

/**
 * Compiles a restriction list: "~regex" entries are regexes (case-insensitive), the others go
 * through `plain` (substring, host pattern, ...). An empty list matches nothing.
 */
export function compileTextMatcher(entries: readonly string[], plain: (entry: string) => TextMatcher): TextMatcher {
  const tests = entries.map((entry) => {
    if (!entry.startsWith('~')) return plain(entry)
    const regex = compileRegex(entry.slice(1), 'i')
    return (value: string) => regex.test(value)
  })
  if (tests.length === 0) return () => false
  return (value) => tests.some((t) => t(value))
}

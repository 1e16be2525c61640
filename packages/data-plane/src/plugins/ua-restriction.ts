import { UaRestrictionSchema } from '@fleetgate/schema'
import { refuse } from './refusal.ts'
import { compileTextMatcher, type TextMatcher } from './text-matcher.ts'
import { definePlugin } from './types.ts'

/** A substring entry, tested against the User-Agent lower-cased once per request. */
function substring(entry: string): TextMatcher {
  const lower = entry.toLowerCase()
  return (lowerUa) => lowerUa.includes(lower)
}

/** Allows or refuses requests by User-Agent: case-insensitive substrings or "~regex"; deny is checked first. */
export default definePlugin({
  name: 'ua_restriction',
  priority: 2980,
  schema: UaRestrictionSchema,
  create(config) {
    const allow = compileTextMatcher(config.allow, substring)
    const deny = compileTextMatcher(config.deny, substring)
    const refusal = refuse('FORBIDDEN', config.message)
    return {
      request(ctx) {
        // Lower-cased once here for every substring entry; "~regex" entries are case-insensitive anyway.
        const ua = (ctx.header('user-agent') ?? '').toLowerCase()
        if (deny(ua)) return refusal
        if (config.allow.length > 0 && !allow(ua)) return refusal
        return undefined
      },
    }
  },
})

import { UaRestrictionSchema } from '@fleetgate/schema'
import { refuse } from './refusal.ts'
import { compileTextMatcher, type TextMatcher } from './text-matcher.ts'
import { definePlugin } from './types.ts'

function substring(entry: string): TextMatcher {
  const lower = entry.toLowerCase()
  return (ua) => ua.toLowerCase().includes(lower)
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
        const ua = ctx.header('user-agent') ?? ''
        if (deny(ua)) return refusal
        if (config.allow.length > 0 && !allow(ua)) return refusal
        return undefined
      },
    }
  },
})

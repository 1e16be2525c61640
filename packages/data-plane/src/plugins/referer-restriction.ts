import { RefererRestrictionSchema } from '@fleetgate/schema'
import { parseHostPattern } from '@fleetgate/schema/runtime'
import { refuse } from './refusal.ts'
import { compileTextMatcher, type TextMatcher } from './text-matcher.ts'
import { definePlugin } from './types.ts'

const REFERER_HOST = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)/i

/** A host entry ("example.com" or "*.example.com") tested against the Referer's host. */
function hostEntry(entry: string): TextMatcher {
  const pattern = parseHostPattern(entry)
  if (pattern.kind === 'exact') return (referer) => refererHost(referer) === pattern.host
  if (pattern.kind === 'wildcard') return (referer) => refererHost(referer)?.endsWith(pattern.suffix) ?? false
  return (referer) => pattern.regex.test(referer)
}

function refererHost(referer: string): string | undefined {
  return REFERER_HOST.exec(referer)?.[1]?.toLowerCase()
}

/** Allows or refuses requests by Referer: its host ("example.com", "*.example.com") or "~regex" on the whole value. */
export default definePlugin({
  name: 'referer_restriction',
  priority: 2990,
  schema: RefererRestrictionSchema,
  create(config) {
    const allow = compileTextMatcher(config.allow, hostEntry)
    const deny = compileTextMatcher(config.deny, hostEntry)
    const refusal = refuse('FORBIDDEN', config.message)
    return {
      request(ctx) {
        const referer = ctx.header('referer')
        if (referer === undefined || referer === '') return config.allow_empty ? undefined : refusal
        if (deny(referer)) return refusal
        if (config.allow.length > 0 && !allow(referer)) return refusal
        return undefined
      },
    }
  },
})

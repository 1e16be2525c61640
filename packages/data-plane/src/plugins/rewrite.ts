import { RewriteSchema } from '@fleetgate/schema'
import { parseRewrite } from '@fleetgate/schema/runtime'
import { definePlugin } from './types.ts'

/**
 * Rewrites the path going upstream (after the location's own rewrite) with "REGEX REPLACEMENT"
 * rules compiled once; the first rule whose regex matches is applied, the others are skipped.
 * The query string is kept (joined with "&" when the replacement adds one).
 */
export default definePlugin({
  name: 'rewrite',
  priority: 800,
  schema: RewriteSchema,
  create(config) {
    const rules = config.rules.map((rule, i) => {
      let spec: ReturnType<typeof parseRewrite>
      try {
        spec = parseRewrite(rule)
      } catch (err) {
        throw new Error(`rules.${i}: ${(err as Error).message}`, { cause: err })
      }
      if (spec.kind !== 'regex') throw new Error(`rules.${i}: expected "REGEX REPLACEMENT", got "${rule}"`)
      return { regex: spec.regex, replacement: spec.replacement }
    })
    return {
      upstream_request(_ctx, upstream) {
        const q = upstream.path.indexOf('?')
        const path = q < 0 ? upstream.path : upstream.path.slice(0, q)
        for (const { regex, replacement } of rules) {
          if (!regex.test(path)) continue
          const rewritten = path.replace(regex, replacement)
          const target = rewritten.startsWith('/') ? rewritten : `/${rewritten}`
          if (q < 0) upstream.path = target
          else upstream.path = `${target}${target.includes('?') ? '&' : '?'}${upstream.path.slice(q + 1)}`
          return
        }
      },
    }
  },
})

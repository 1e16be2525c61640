import type { Static } from '@sinclair/typebox'
import { Type } from '@sinclair/typebox'
import { pluginObject } from './plugin-object.ts'
import { registerPluginSchema } from './registry.ts'

/** `type = "rewrite"`: regex rewrites of the upstream path, the first matching rule wins. */
export const RewriteSchema = registerPluginSchema(
  'rewrite',
  pluginObject(
    'rewrite',
    {
      rules: Type.Array(Type.String({ minLength: 3 }), {
        minItems: 1,
        description: '"REGEX REPLACEMENT" each, e.g. "^/api/(.*)$ /$1" ($1, $name); tried in order, the first match is applied',
      }),
    },
    'rewrites the upstream path with regex rules (after the location rewrite); the query string is kept',
  ),
)

export type RewriteConfig = Static<typeof RewriteSchema>

import type { Static } from '@sinclair/typebox'
import { Type } from '@sinclair/typebox'
import { FieldValue } from '../header-field.ts'
import { pluginObject } from './plugin-object.ts'
import { registerPluginSchema } from './registry.ts'

/** `type = "redirect"`: http to https, another host, or a path prefix. */
export const RedirectSchema = registerPluginSchema(
  'redirect',
  pluginObject(
    'redirect',
    {
      https: Type.Boolean({ default: false, description: 'redirect plain-http requests to https' }),
      https_port: Type.Integer({ minimum: 1, maximum: 65535, default: 443 }),
      host: Type.Optional(FieldValue({ description: 'redirect requests for any other host to this one' })),
      prefix: Type.Optional(Type.String({ pattern: '^/', description: 'prepend to paths that do not start with it yet' })),
      status: Type.Unsafe<301 | 302 | 303 | 307 | 308>({ type: 'integer', enum: [301, 302, 303, 307, 308], default: 301 }),
      keep_query: Type.Boolean({ default: true }),
    },
    'redirects http to https, to another host, or under a path prefix',
  ),
)

export type RedirectConfig = Static<typeof RedirectSchema>

import type { Static } from '@sinclair/typebox'
import { Type } from '@sinclair/typebox'
import { HeaderName } from '../header-field.ts'
import { pluginObject } from './plugin-object.ts'
import { registerPluginSchema } from './registry.ts'

/** `type = "cors"`: cross-origin resource sharing; the gateway answers preflights itself. */
export const CorsSchema = registerPluginSchema(
  'cors',
  pluginObject(
    'cors',
    {
      allow_origins: Type.Array(Type.String(), {
        default: ['*'],
        description:
          '"*", an exact origin, a pattern with * ("https://*.example.com") or "~regex"; "null" matches only when listed; with allow_credentials, list the origins explicitly (no "*")',
      }),
      allow_methods: Type.Array(Type.String(), { default: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] }),
      allow_headers: Type.Array(HeaderName(), { default: [], description: 'empty: allow what the preflight asks for' }),
      expose_headers: Type.Array(HeaderName(), { default: [] }),
      allow_credentials: Type.Boolean({ default: false, description: 'requires allow_origins listed explicitly (no "*")' }),
      max_age: Type.Integer({ minimum: 0, default: 600, description: 'seconds a browser may cache a preflight' }),
    },
    'CORS headers and preflight answers',
  ),
  (config, push) => {
    // "*" with credentials would let any site, sandboxed "null" documents included, read
    // responses made with the user's cookies (the default allow_origins is ["*"] too).
    if (config.allow_credentials && config.allow_origins.includes('*')) {
      push('allow_origins', 'allow_credentials = true cannot go with "*": list the origins explicitly')
    }
  },
)

export type CorsConfig = Static<typeof CorsSchema>

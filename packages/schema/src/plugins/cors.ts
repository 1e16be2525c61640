import type { Static } from '@sinclair/typebox'
import { Type } from '@sinclair/typebox'
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
        description: '"*", an exact origin, a pattern with * ("https://*.example.com") or "~regex"',
      }),
      allow_methods: Type.Array(Type.String(), { default: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] }),
      allow_headers: Type.Array(Type.String(), { default: [], description: 'empty: allow what the preflight asks for' }),
      expose_headers: Type.Array(Type.String(), { default: [] }),
      allow_credentials: Type.Boolean({ default: false }),
      max_age: Type.Integer({ minimum: 0, default: 600, description: 'seconds a browser may cache a preflight' }),
    },
    'CORS headers and preflight answers',
  ),
)

export type CorsConfig = Static<typeof CorsSchema>

import type { Static } from '@sinclair/typebox'
import { Type } from '@sinclair/typebox'
import { pluginObject } from './plugin-object.ts'
import { registerPluginSchema } from './registry.ts'

const BasicUser = Type.Object(
  {
    name: Type.String({ minLength: 1, pattern: '^[^:]+$', description: 'user name, also the consumer name' }),
    password: Type.String({
      pattern: '^(scrypt\\$\\d+\\$\\d+\\$\\d+\\$[A-Za-z0-9+/=]+\\$[A-Za-z0-9+/=]+|sha256\\$[0-9a-fA-F]{64})$',
      description: '"scrypt$N$r$p$SALT_B64$KEY_B64" or "sha256$HEX" (never the plain password)',
    }),
  },
  { additionalProperties: false },
)

/** `type = "basic_auth"`: HTTP Basic authentication against hashed passwords. */
export const BasicAuthSchema = registerPluginSchema(
  'basic_auth',
  pluginObject(
    'basic_auth',
    {
      users: Type.Array(BasicUser, { minItems: 1 }),
      realm: Type.String({ default: 'fleetgate' }),
      hide_credentials: Type.Boolean({ default: false, description: 'strip Authorization before the request goes upstream' }),
      consumer_header: Type.String({ default: 'X-Consumer-Name', description: 'upstream header naming the consumer ("" for none)' }),
    },
    'authenticates requests by HTTP Basic credentials',
  ),
)

export type BasicAuthConfig = Static<typeof BasicAuthSchema>

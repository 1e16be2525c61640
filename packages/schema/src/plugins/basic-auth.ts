import type { Static } from '@sinclair/typebox'
import { Type } from '@sinclair/typebox'
import { FieldValue, HeaderName } from '../header-field.ts'
import { pluginObject } from './plugin-object.ts'
import { registerPluginSchema } from './registry.ts'

const BasicUser = Type.Object(
  {
    // The name is sent upstream as a header value (consumer_header), so it must be a valid one.
    name: FieldValue({ minLength: 1, description: 'user name (without ":"), also the consumer name' }),
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
      realm: FieldValue({ default: 'fleetgate', description: 'realm of the WWW-Authenticate challenge' }),
      hide_credentials: Type.Boolean({ default: false, description: 'strip Authorization before the request goes upstream' }),
      consumer_header: HeaderName({
        optional: true,
        default: 'X-Consumer-Name',
        description: 'upstream header naming the consumer ("" for none)',
      }),
    },
    'authenticates requests by HTTP Basic credentials',
  ),
  (config, push) => {
    const seen = new Set<string>()
    config.users.forEach((user, i) => {
      if (user.name.includes(':')) push(`users.${i}.name`, `must not contain ":", got ${JSON.stringify(user.name)}`)
      else if (seen.has(user.name)) push(`users.${i}.name`, `user "${user.name}" is listed twice`)
      seen.add(user.name)
    })
  },
)

export type BasicAuthConfig = Static<typeof BasicAuthSchema>

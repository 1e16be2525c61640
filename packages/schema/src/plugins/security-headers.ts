import type { Static } from '@sinclair/typebox'
import { Type } from '@sinclair/typebox'
import { FieldValue } from '../header-field.ts'
import { StringEnum } from '../schema-types.ts'
import { pluginObject } from './plugin-object.ts'
import { registerPluginSchema } from './registry.ts'

const Policy = (description: string) => Type.Optional(FieldValue({ description: `${description}; "" leaves it out` }))

/** `type = "security_headers"`: HSTS, nosniff, frame, referrer and permissions policies. */
export const SecurityHeadersSchema = registerPluginSchema(
  'security_headers',
  pluginObject(
    'security_headers',
    {
      preset: StringEnum(['safe', 'none'], { default: 'safe', description: 'values used for keys left unset' }),
      hsts: Policy('Strict-Transport-Security (sent on https requests only)'),
      content_type_options: Policy('X-Content-Type-Options'),
      frame_options: Policy('X-Frame-Options'),
      referrer_policy: Policy('Referrer-Policy'),
      permissions_policy: Policy('Permissions-Policy'),
      override: Type.Boolean({ default: false, description: "replace the upstream's own values of these headers" }),
    },
    'adds security response headers, with a safe preset',
  ),
)

export type SecurityHeadersConfig = Static<typeof SecurityHeadersSchema>

import type { Static } from '@sinclair/typebox'
import { Type } from '@sinclair/typebox'
import { HeaderName } from '../header-field.ts'
import { Duration, StringEnum } from '../schema-types.ts'
import { pluginObject } from './plugin-object.ts'
import { registerPluginSchema } from './registry.ts'

/** `type = "csrf"`: double-submit token (cookie + header), issued on GET token_path, HMAC-signed with an expiry. */
export const CsrfSchema = registerPluginSchema(
  'csrf',
  pluginObject(
    'csrf',
    {
      key: Type.String({ minLength: 16, description: 'HMAC key signing the tokens (at least 16 characters)' }),
      name: HeaderName({
        default: 'x-csrf-token',
        description: 'name of both the cookie and the request header carrying the token',
      }),
      token_path: Type.String({
        default: '/csrf-token',
        pattern: '^/',
        description: 'a GET on this exact path is answered with a new token',
      }),
      ttl: Duration('1h', 'how long a token is valid'),
      cookie_path: Type.String({ default: '/', description: 'Path attribute of the cookie' }),
      same_site: StringEnum(['Strict', 'Lax', 'None'] as const, { default: 'Lax', description: 'SameSite attribute of the cookie' }),
    },
    'refuses unsafe requests without a matching, signed double-submit token (403)',
  ),
)

export type CsrfConfig = Static<typeof CsrfSchema>

import type { Static } from '@sinclair/typebox'
import { Type } from '@sinclair/typebox'
import { HeaderName } from '../header-field.ts'
import { pluginObject } from './plugin-object.ts'
import { registerPluginSchema } from './registry.ts'

/** `type = "request_id"`: keep or generate a request id (UUID v7), sent upstream and returned. */
export const RequestIdSchema = registerPluginSchema(
  'request_id',
  pluginObject(
    'request_id',
    {
      header: HeaderName({ default: 'X-Request-ID', description: 'header carrying the id' }),
      trust_incoming: Type.Boolean({ default: true, description: 'keep a well-formed id the client sent instead of generating one' }),
      return_header: Type.Boolean({ default: true, description: 'return the id in the response' }),
    },
    'keep or generate a request id (UUID v7), forwarded upstream and returned',
  ),
)

export type RequestIdConfig = Static<typeof RequestIdSchema>

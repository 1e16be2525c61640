import type { Static } from '@sinclair/typebox'
import { Size } from '../schema-types.ts'
import { pluginObject } from './plugin-object.ts'
import { registerPluginSchema } from './registry.ts'

/** `type = "request_size_limit"`: refuses bodies over a size with 413, while they stream. */
export const RequestSizeLimitSchema = registerPluginSchema(
  'request_size_limit',
  pluginObject(
    'request_size_limit',
    { max_size: Size('1mb', 'largest request body') },
    'refuses request bodies over a size with 413, counted while streaming',
  ),
)

export type RequestSizeLimitConfig = Static<typeof RequestSizeLimitSchema>

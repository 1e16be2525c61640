import { createHash } from 'node:crypto'
import type { Static } from '@sinclair/typebox'
import { Type } from '@sinclair/typebox'
import { FieldValue, HeaderName } from '../header-field.ts'
import { pluginObject } from './plugin-object.ts'
import { registerPluginSchema } from './registry.ts'

const KeyConsumer = Type.Object(
  {
    name: FieldValue({ minLength: 1, description: 'consumer name (access log, limit key, upstream header)' }),
    key: Type.Optional(Type.String({ minLength: 1, description: 'the key in plain text' })),
    key_sha256: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{64}$', description: 'hex sha256 of the key' })),
  },
  { additionalProperties: false },
)

/** `type = "key_auth"`: an API key in a header or a query parameter, one consumer per key. */
export const KeyAuthSchema = registerPluginSchema(
  'key_auth',
  pluginObject(
    'key_auth',
    {
      header: HeaderName({ optional: true, default: 'X-API-Key', description: 'header carrying the key ("" to not read headers)' }),
      query: Type.String({ default: '', description: 'query parameter carrying the key ("" to not read the query)' }),
      consumers: Type.Array(KeyConsumer, { minItems: 1, description: 'each with key or key_sha256' }),
      hide_credentials: Type.Boolean({ default: false, description: 'strip the key before the request goes upstream' }),
      consumer_header: HeaderName({
        optional: true,
        default: 'X-Consumer-Name',
        description: 'upstream header naming the consumer ("" for none)',
      }),
    },
    'authenticates requests by API key',
  ),
  (config, push) => {
    // A key on two consumers would authenticate as whichever came last: refused, plain or hashed.
    const owners = new Map<string, string>()
    config.consumers.forEach((c, i) => {
      const digest = c.key !== undefined ? createHash('sha256').update(c.key).digest('hex') : c.key_sha256?.toLowerCase()
      if (digest === undefined) return
      const owner = owners.get(digest)
      const key = c.key !== undefined ? 'key' : 'key_sha256'
      if (owner !== undefined) push(`consumers.${i}.${key}`, `consumer "${c.name}" has the same key as consumer "${owner}"`)
      else owners.set(digest, c.name)
    })
  },
)

export type KeyAuthConfig = Static<typeof KeyAuthSchema>

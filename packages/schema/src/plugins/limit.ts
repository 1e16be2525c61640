import type { Static } from '@sinclair/typebox'
import { Type } from '@sinclair/typebox'
import { sourceNameProblem } from '../header-field.ts'
import { pluginObject } from './plugin-object.ts'
import { registerPluginSchema } from './registry.ts'

/** `type = "limit"`: a token bucket (rate + burst) and/or a cap on requests in flight, per key. */
export const LimitSchema = registerPluginSchema(
  'limit',
  pluginObject(
    'limit',
    {
      rate: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'requests per second (token refill rate)' })),
      burst: Type.Optional(Type.Integer({ minimum: 1, description: 'bucket size; defaults to the rate rounded up' })),
      inflight: Type.Optional(Type.Integer({ minimum: 1, description: 'most requests in flight per key' })),
      key: Type.String({
        default: 'ip',
        pattern: '^(ip|consumer|(header|cookie|query):.+)$',
        description: 'ip | header:NAME | cookie:NAME | query:NAME | consumer',
      }),
      headers: Type.Boolean({ default: true, description: 'send RateLimit-Limit / -Remaining / -Reset' }),
      max_keys: Type.Integer({ minimum: 1, default: 100000, description: 'most keys tracked; the oldest is dropped past it' }),
    },
    'limits requests per second and in flight per client key (429)',
  ),
  (config, push) => {
    // A name no request can carry would put every client in the one bucket of the key "".
    const colon = config.key.indexOf(':')
    const problem = colon < 0 ? undefined : sourceNameProblem(config.key.slice(0, colon), config.key.slice(colon + 1))
    if (problem !== undefined) push('key', problem)
  },
)

export type LimitConfig = Static<typeof LimitSchema>

import { type Static, Type } from '@sinclair/typebox'
import { Duration, StringEnum } from '../schema-types.ts'

/** `[basic]`: process-wide settings. */
export const BasicSchema = Type.Object(
  {
    name: Type.String({ default: 'fleetgate', description: 'gateway name, used in Via and logs' }),
    log_level: StringEnum(['trace', 'debug', 'info', 'warn', 'error', 'fatal'], { default: 'info' }),
    grace_period: Duration('10s', 'how long SIGTERM waits for in-flight requests'),
    trusted_proxies: Type.Array(Type.String(), {
      default: [],
      description: 'CIDRs whose X-Forwarded-For is trusted for the client address',
    }),
    workers: Type.Integer({ minimum: 1, maximum: 64, default: 1, description: 'worker processes sharing the listeners' }),
    via: Type.Boolean({ default: true, description: 'add a Via header to requests and responses' }),
  },
  { additionalProperties: false },
)

export type BasicConfig = Static<typeof BasicSchema>

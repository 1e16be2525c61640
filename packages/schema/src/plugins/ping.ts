import type { Static } from '@sinclair/typebox'
import { Type } from '@sinclair/typebox'
import { pluginObject } from './plugin-object.ts'
import { registerPluginSchema } from './registry.ts'

/** `type = "ping"`: answers one path itself (a health endpoint that never reaches an upstream). */
export const PingSchema = registerPluginSchema(
  'ping',
  pluginObject(
    'ping',
    {
      path: Type.String({ default: '/ping', pattern: '^/', description: 'exact path answered' }),
      body: Type.String({ default: 'pong' }),
    },
    'answers a path with "pong"',
  ),
)

export type PingConfig = Static<typeof PingSchema>

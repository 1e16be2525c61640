import type { Static } from '@sinclair/typebox'
import { Type } from '@sinclair/typebox'
import { pluginObject } from './plugin-object.ts'
import { registerPluginSchema } from './registry.ts'
import { restrictionLists } from './restriction-lists.ts'

/** `type = "referer_restriction"`: allow/deny by the Referer's host ("example.com", "*.example.com") or "~regex" on the whole Referer. */
export const RefererRestrictionSchema = registerPluginSchema(
  'referer_restriction',
  pluginObject(
    'referer_restriction',
    {
      ...restrictionLists('referer hosts ("example.com", "*.example.com") or "~regex"'),
      allow_empty: Type.Boolean({ default: true, description: 'let requests without a Referer through' }),
    },
    'allows or refuses requests by Referer',
  ),
)

export type RefererRestrictionConfig = Static<typeof RefererRestrictionSchema>

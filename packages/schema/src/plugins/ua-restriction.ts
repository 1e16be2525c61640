import type { Static } from '@sinclair/typebox'
import { pluginObject } from './plugin-object.ts'
import { registerPluginSchema } from './registry.ts'
import { restrictionLists } from './restriction-lists.ts'

/** `type = "ua_restriction"`: allow/deny by User-Agent: a case-insensitive substring or "~regex". */
export const UaRestrictionSchema = registerPluginSchema(
  'ua_restriction',
  pluginObject('ua_restriction', restrictionLists('User-Agent substrings or "~regex"'), 'allows or refuses requests by User-Agent'),
)

export type UaRestrictionConfig = Static<typeof UaRestrictionSchema>

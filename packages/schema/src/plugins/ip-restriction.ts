import type { Static } from '@sinclair/typebox'
import { pluginObject } from './plugin-object.ts'
import { registerPluginSchema } from './registry.ts'
import { restrictionLists } from './restriction-lists.ts'

/** `type = "ip_restriction"`: allow/deny client addresses (after basic.trusted_proxies) by IPv4/IPv6 CIDR. */
export const IpRestrictionSchema = registerPluginSchema(
  'ip_restriction',
  pluginObject('ip_restriction', restrictionLists('IPs or CIDRs'), 'allows or refuses client IPs by CIDR'),
)

export type IpRestrictionConfig = Static<typeof IpRestrictionSchema>

import type { BlockList } from 'node:net'
import { IpRestrictionSchema } from '@fleetgate/schema'
import { parseCidrList } from '@fleetgate/schema/runtime'
import { isTrusted } from '../proxy/client-ip.ts'
import { refuse } from './refusal.ts'
import { definePlugin } from './types.ts'

/** Allows or refuses the client address (after basic.trusted_proxies) by IPv4/IPv6 CIDR; deny is checked first. */
export default definePlugin({
  name: 'ip_restriction',
  priority: 3000,
  schema: IpRestrictionSchema,
  create(config) {
    const list = (key: 'allow' | 'deny'): BlockList | undefined => {
      if (config[key].length === 0) return undefined
      try {
        return parseCidrList(config[key])
      } catch (err) {
        throw new Error(`${key}: ${(err as Error).message}`, { cause: err })
      }
    }
    const allow = list('allow')
    const deny = list('deny')
    const refusal = refuse('FORBIDDEN', config.message)
    return {
      request(ctx) {
        const ip = ctx.clientIp
        if (deny !== undefined && isTrusted(deny, ip)) return refusal
        if (allow !== undefined && !isTrusted(allow, ip)) return refusal
        return undefined
      },
    }
  },
})

import { SecurityHeadersSchema } from '@fleetgate/schema'
import { defaultFlatHeader, setFlatHeader } from './flat-headers.ts'
import { definePlugin } from './types.ts'

/** Values a key left unset takes under preset "safe": strict but harmless for ordinary sites and APIs. */
const SAFE = {
  hsts: 'max-age=31536000; includeSubDomains',
  content_type_options: 'nosniff',
  frame_options: 'DENY',
  referrer_policy: 'strict-origin-when-cross-origin',
  permissions_policy: 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
}

const NAMES = {
  content_type_options: 'X-Content-Type-Options',
  frame_options: 'X-Frame-Options',
  referrer_policy: 'Referrer-Policy',
  permissions_policy: 'Permissions-Policy',
} as const

/** Adds HSTS (https only: browsers ignore it over http), nosniff, frame, referrer and permissions policies. */
export default definePlugin({
  name: 'security_headers',
  priority: 10500,
  schema: SecurityHeadersSchema,
  create(config) {
    const value = (key: keyof typeof SAFE) => config[key] ?? (config.preset === 'safe' ? SAFE[key] : '')
    const always: string[] = []
    for (const [key, name] of Object.entries(NAMES)) {
      const v = value(key as keyof typeof NAMES)
      if (v !== '') always.push(name, v)
    }
    const hsts = value('hsts')
    const put = config.override ? setFlatHeader : defaultFlatHeader
    return {
      response(ctx, head) {
        for (let i = 0; i < always.length; i += 2) put(head.headers, always[i] as string, always[i + 1] as string)
        if (hsts !== '' && ctx.scheme === 'https') put(head.headers, 'Strict-Transport-Security', hsts)
      },
    }
  },
})

import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'

/** The template beside this file: five locations, three upstreams, a regex route. */
export const GATEWAY_TEMPLATE = new URL('./gateway.toml', import.meta.url)

/** The same config with request_id + jwt + limit + cors on the measured location (the chain). */
export const GATEWAY_PLUGINS_TEMPLATE = new URL('./gateway-plugins.toml', import.meta.url)

/** HMAC secret of the plugin variant's jwt plugin (a benchmark value, not a real secret). */
export const BENCH_JWT_SECRET = 'bench-secret-0123456789abcdef0123456789'

const base64url = (data: string | Buffer) => Buffer.from(data).toString('base64url')

/** An HS256 token for `sub = "bench"` valid for a day: what the plugin variant's measured URL carries. */
export function benchJwt(now = Date.now()): string {
  const head = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))
  const claims = base64url(JSON.stringify({ sub: 'bench', iat: Math.floor(now / 1000), exp: Math.floor(now / 1000) + 86_400 }))
  const signature = createHmac('sha256', BENCH_JWT_SECRET).update(`${head}.${claims}`).digest('base64url')
  return `${head}.${claims}.${signature}`
}

/** Values for the template's `{{NAME}}` placeholders. */
export interface GatewayValues {
  /** host:port the gateway listens on. */
  LISTEN: string
  /** host:port of the nginx backend. */
  BACKEND: string
}

/** Substitutes every `{{NAME}}` in `template`; throws on a placeholder with no value, so a typo cannot slip through. */
export function renderTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const value = values[name]
    if (value === undefined) throw new Error(`gateway.toml: no value for placeholder {{${name}}}`)
    return value
  })
}

/** The benchmark's gateway config as TOML text (`template`: the plain one by default). */
export function renderGatewayConfig(values: GatewayValues, template: URL = GATEWAY_TEMPLATE): string {
  return renderTemplate(readFileSync(template, 'utf8'), { ...values, JWT_SECRET: BENCH_JWT_SECRET })
}

import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'

/** The template beside this file: five locations, three upstreams, a regex route. */
export const GATEWAY_TEMPLATE = new URL('./gateway.toml', import.meta.url)

/** The same config with request_id + key_auth + limit + cors on the measured location. */
export const GATEWAY_PLUGINS_TEMPLATE = new URL('./gateway-plugins.toml', import.meta.url)

/** The API key the plugin variant's measured URL carries (its sha256 is in the template). */
export const BENCH_API_KEY = 'bench-key-0123456789'

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
  const KEY_SHA256 = createHash('sha256').update(BENCH_API_KEY).digest('hex')
  return renderTemplate(readFileSync(template, 'utf8'), { ...values, KEY_SHA256 })
}

import { readFileSync } from 'node:fs'

/** The template beside this file: five locations, three upstreams, a regex route. */
export const GATEWAY_TEMPLATE = new URL('./gateway.toml', import.meta.url)

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

/** The benchmark's gateway config as TOML text. */
export function renderGatewayConfig(values: GatewayValues): string {
  return renderTemplate(readFileSync(GATEWAY_TEMPLATE, 'utf8'), { ...values })
}

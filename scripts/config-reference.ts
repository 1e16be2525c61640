// Prints the config reference (docs/config.md) from the schemas, so the docs never drift
// from what `fleetgate validate` accepts: node scripts/config-reference.ts > docs/config.md
import { pluginSchemas, sectionSchemas, toJsonSchema } from '@fleetgate/schema'

type Prop = { type?: string | string[]; default?: unknown; description?: string; enum?: unknown[]; format?: string }

function table(schema: Record<string, unknown>): string {
  const props = (schema.properties ?? {}) as Record<string, Prop>
  const required = new Set((schema.required as string[] | undefined) ?? [])
  const rows = Object.entries(props).map(([name, p]) => {
    const type = p.enum ? p.enum.map((v) => JSON.stringify(v)).join(' \\| ') : (p.format ?? [p.type ?? 'any'].flat().join(' \\| '))
    const def = p.default === undefined ? (required.has(name) ? '**required**' : '') : `\`${JSON.stringify(p.default)}\``
    return `| \`${name}\` | ${type} | ${def} | ${(p.description ?? '').replace(/\|/g, '\\|')} |`
  })
  return ['| key | type | default | meaning |', '|---|---|---|---|', ...rows].join('\n')
}

const sections: Array<[string, string]> = [
  ['[basic]', 'basic'],
  ['[upstreams.NAME]', 'upstreams'],
  ['[locations.NAME]', 'locations'],
  ['[servers.NAME]', 'servers'],
  ['[certificates.NAME]', 'certificates'],
  ['[metrics]', 'metrics'],
  ['[tracing]', 'tracing'],
]
const out = [
  '# Config reference',
  '',
  'Generated from the schemas by `node scripts/config-reference.ts`; `fleetgate validate FILE` checks a file against',
  'exactly these rules. Durations take `ms`, `s`, `m`, `h` ("1m30s"); sizes take `b`, `kb`, `mb`, `gb`.',
  'Unknown keys are errors.',
  '',
]
for (const [title, key] of sections) {
  out.push(`## ${title}`, '', table(toJsonSchema(sectionSchemas[key as keyof typeof sectionSchemas])), '')
}
const plugins = Object.entries(pluginSchemas)
if (plugins.length > 0) {
  out.push('## Plugins', '', 'Each `[plugins.NAME]` table has a `type`; its keys depend on the type.', '')
  for (const [type, schema] of plugins) out.push(`### type = "${type}"`, '', table(toJsonSchema(schema)), '')
}
process.stdout.write(`${out.join('\n')}\n`)

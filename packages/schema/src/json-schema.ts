import type { TSchema } from '@sinclair/typebox'

/**
 * The JSON Schema of a TypeBox schema as validators and the UI should see it: properties
 * with a `default` are not required (the validator fills them in), symbols are dropped.
 */
export function toJsonSchema(schema: TSchema): Record<string, unknown> {
  return relax(JSON.parse(JSON.stringify(schema))) as Record<string, unknown>
}

function relax(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(relax)
  if (node === null || typeof node !== 'object') return node
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(node)) out[key] = relax(value)
  const props = out.properties as Record<string, { default?: unknown }> | undefined
  if (props && Array.isArray(out.required)) {
    const required = (out.required as string[]).filter((name) => props[name]?.default === undefined)
    if (required.length > 0) out.required = required
    else delete out.required
  }
  return out
}

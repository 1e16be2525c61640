import { type ConfigError, type ResourceKind, storeKeys } from '@fleetgate/schema'

/** Which fields of which kind name resources of another kind: the edges that make a delete unsafe. */
const REFERENCE_FIELDS: ReadonlyArray<{ from: ResourceKind; field: string; to: ResourceKind }> = [
  { from: 'locations', field: 'upstream', to: 'upstreams' },
  { from: 'locations', field: 'plugins', to: 'plugins' },
  { from: 'servers', field: 'locations', to: 'locations' },
  { from: 'servers', field: 'plugins', to: 'plugins' },
  { from: 'servers', field: 'certificates', to: 'certificates' },
]

function namesIn(value: unknown): string[] {
  if (typeof value === 'string') return [value]
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []
}

/**
 * Every place in `config` (as stored, before defaults) that references `kind`.`name`, as
 * `{path, message}` with the referencing field's path (`locations.api.upstream`).
 */
export function findReferrers(config: Record<string, unknown>, kind: ResourceKind, name: string): ConfigError[] {
  const found: ConfigError[] = []
  for (const edge of REFERENCE_FIELDS) {
    if (edge.to !== kind) continue
    const resources = (config[edge.from] ?? {}) as Record<string, Record<string, unknown> | undefined>
    for (const [owner, resource] of Object.entries(resources)) {
      if (namesIn(resource?.[edge.field]).includes(name)) {
        found.push({ path: `${edge.from}.${owner}.${edge.field}`, message: `references ${kind}.${name}` })
      }
    }
  }
  return found
}

/** The `desired/` keys a resource of `kind` references, so a write can require them to still exist. */
export function referencedKeys(kind: string, value: Record<string, unknown>): string[] {
  const keys = new Set<string>()
  for (const edge of REFERENCE_FIELDS) {
    if (edge.from !== kind) continue
    for (const name of namesIn(value[edge.field])) keys.add(storeKeys.desired(edge.to, name))
  }
  return [...keys]
}

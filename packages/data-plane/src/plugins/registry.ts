import { pluginSchemas } from '@fleetgate/schema'
import type { PluginDefinition } from './types.ts'

/** Plugin types by name. */
export type PluginRegistry = ReadonlyMap<string, PluginDefinition>

/**
 * Builds a registry, refusing (by throwing, at start-up) a duplicate name, a duplicate priority,
 * or a plugin whose schema is not the one the schema package registered for its name, so the
 * validator, the UI and the data plane can never disagree on a plugin's keys.
 */
export function createPluginRegistry(definitions: readonly PluginDefinition[]): PluginRegistry {
  const byName = new Map<string, PluginDefinition>()
  const byPriority = new Map<number, string>()
  for (const definition of definitions) {
    const { name, priority } = definition
    if (byName.has(name)) throw new Error(`plugin "${name}" is registered twice`)
    const other = byPriority.get(priority)
    if (other !== undefined) throw new Error(`plugins "${other}" and "${name}" have the same priority ${priority}`)
    if (pluginSchemas[name] !== definition.schema) throw new Error(`plugin "${name}" has no schema registered under its name`)
    byName.set(name, definition)
    byPriority.set(priority, name)
  }
  return byName
}

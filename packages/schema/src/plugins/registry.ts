import type { Static, TObject } from '@sinclair/typebox'

/**
 * Schemas of the built-in plugin types, by `type`. Each schema is a closed object that
 * includes `type`; the data plane's plugin of the same name is built from it.
 */
export const pluginSchemas: Record<string, TObject> = {}

/** A plugin type's schema: a closed TypeBox object including `type`. */
export type PluginSchema = TObject

/** The validated config (defaults applied) of a plugin whose schema is `S`. */
export type PluginConfigOf<S extends PluginSchema> = Static<S>

/**
 * What a JSON Schema cannot say about a plugin's config (relations between its keys, lengths
 * in bytes), run on a config that passed the schema, defaults applied. `push` takes the key
 * path under the plugin ("consumers.1.key") and the message.
 */
export type PluginCheck<C> = (config: C, push: (key: string, message: string) => void) => void

/** The checks of the plugin types that have one, by `type`. */
export const pluginChecks: Record<string, PluginCheck<never>> = {}

/** Registers a plugin type's schema (and its check); refuses a duplicate. Called at import by each schema file. */
export function registerPluginSchema<S extends TObject>(type: string, schema: S, check?: PluginCheck<Static<S>>): S {
  if (pluginSchemas[type]) throw new Error(`plugin schema "${type}" registered twice`)
  pluginSchemas[type] = schema
  if (check !== undefined) pluginChecks[type] = check
  return schema
}

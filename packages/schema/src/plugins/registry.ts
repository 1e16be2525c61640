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

/** Registers a plugin type's schema; refuses a duplicate. Called at import by each schema file. */
export function registerPluginSchema<S extends TObject>(type: string, schema: S): S {
  if (pluginSchemas[type]) throw new Error(`plugin schema "${type}" registered twice`)
  pluginSchemas[type] = schema
  return schema
}

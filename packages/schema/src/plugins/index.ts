import type { TObject } from '@sinclair/typebox'

/**
 * Schemas of the built-in plugin types, by `type`. Each schema is a closed object that
 * includes `type`; the data plane's plugin of the same name is built from it.
 */
export const pluginSchemas: Record<string, TObject> = {}

/** Registers a plugin type's schema; refuses a duplicate. Called at import by each schema file. */
export function registerPluginSchema(type: string, schema: TObject): void {
  if (pluginSchemas[type]) throw new Error(`plugin schema "${type}" registered twice`)
  pluginSchemas[type] = schema
}

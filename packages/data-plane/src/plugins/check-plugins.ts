import type { ConfigError } from '@fleetgate/schema'
import pino from 'pino'
import { builtinRegistry } from './builtin.ts'
import type { PluginRegistry } from './registry.ts'

/**
 * Runs each plugin's compile-time checks (its create(), with an already aborted signal so no
 * timer or socket outlives the call) on a config that passed schema validation, for offline
 * validation. Errors name the key when the plugin's message starts with one
 * ("plugins.NAME.rules.1: invalid regex ..."). Unknown types are left to the schema's errors.
 */
export function checkPluginConfigs(
  configs: Readonly<Record<string, { type: string }>>,
  registry: PluginRegistry = builtinRegistry(),
): ConfigError[] {
  const errors: ConfigError[] = []
  const controller = new AbortController()
  controller.abort()
  const logger = pino({ level: 'silent' })
  for (const [name, config] of Object.entries(configs)) {
    const definition = registry.get(config.type)
    if (definition === undefined) continue
    try {
      definition.create(config as never, { name, logger, signal: controller.signal })
    } catch (err) {
      const message = (err as Error).message
      const keyed = /^([\w.]+): ([\s\S]*)$/.exec(message)
      errors.push(
        keyed === null ? { path: `plugins.${name}`, message } : { path: `plugins.${name}.${keyed[1]}`, message: keyed[2] as string },
      )
    }
  }
  return errors
}

import { configHash } from '@fleetgate/schema/runtime'
import type { Logger } from 'pino'
import type { PluginRegistry } from './registry.ts'
import type { PluginCapabilities, PluginHooks } from './types.ts'

/** One `[plugins.NAME]` instance, created once and reused across reloads while its config hash holds. */
export interface PluginInstance {
  readonly name: string
  readonly type: string
  readonly priority: number
  /** configHash of the instance's config: equal hashes mean the instance (and its state) is reused. */
  readonly hash: string
  readonly hooks: PluginHooks
  /** What the instance offers outside the request path (cache purges); undefined: nothing. */
  readonly capabilities?: PluginCapabilities | undefined
  /** Aborted when the instance is retired. */
  readonly controller: AbortController
}

/** The instances of a config, and the ones created for it (the rest were taken from the previous snapshot). */
export interface PluginInstances {
  instances: Map<string, PluginInstance>
  created: PluginInstance[]
}

/**
 * Creates every configured plugin instance, taking from `previous` each one whose config is
 * unchanged so its state (rate-limit counters, caches) survives the reload. Throws
 * "plugins.NAME: ..." on a config a plugin cannot use; instances created before are aborted.
 */
export function createPluginInstances(
  configs: Readonly<Record<string, { type: string }>>,
  previous: ReadonlyMap<string, PluginInstance> | undefined,
  registry: PluginRegistry,
  logger: Logger,
): PluginInstances {
  const instances = new Map<string, PluginInstance>()
  const created: PluginInstance[] = []
  try {
    for (const [name, config] of Object.entries(configs)) {
      const hash = configHash(config)
      const old = previous?.get(name)
      if (old !== undefined && old.hash === hash) {
        instances.set(name, old)
        continue
      }
      const instance = createInstance(name, config, hash, registry, logger)
      created.push(instance)
      instances.set(name, instance)
    }
  } catch (err) {
    abortInstances(created)
    throw err
  }
  return { instances, created }
}

function createInstance(name: string, config: { type: string }, hash: string, registry: PluginRegistry, logger: Logger): PluginInstance {
  const definition = registry.get(config.type)
  if (definition === undefined) throw new Error(`plugins.${name}.type: unknown plugin type "${config.type}"`)
  const controller = new AbortController()
  try {
    const hooks = definition.create(config as never, { name, logger: logger.child({ plugin: name }), signal: controller.signal })
    return { name, type: config.type, priority: definition.priority, hash, hooks, capabilities: hooks.capabilities, controller }
  } catch (err) {
    controller.abort()
    throw new Error(`plugins.${name}: ${(err as Error).message}`, { cause: err })
  }
}

/** The instances of `previous` that `next` does not reuse: retire them once `previous` is drained. */
export function droppedInstances(
  previous: ReadonlyMap<string, PluginInstance>,
  next: ReadonlyMap<string, PluginInstance>,
): PluginInstance[] {
  return [...previous.values()].filter((i) => next.get(i.name) !== i)
}

/** Aborts the instances' signals (their timers stop). */
export function abortInstances(instances: Iterable<PluginInstance>): void {
  for (const instance of instances) instance.controller.abort()
}

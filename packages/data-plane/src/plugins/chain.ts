import type { Logger } from 'pino'
import type { PluginInstance } from './instances.ts'
import type { PluginHooks } from './types.ts'

/** One phase's hook of one instance, bound once at compile. */
export interface ChainHook<F> {
  /** The instance name, for error logs. */
  readonly name: string
  readonly run: F
}

/** The compiled plugins of one location (or of a server's globals): hooks per phase, in priority order. */
export interface PluginChain {
  /** Instance names in run order. */
  readonly names: readonly string[]
  /** pre_route hooks; undefined when none, so the handler pays one check (run for server globals only). */
  readonly preRoute: readonly ChainHook<NonNullable<PluginHooks['pre_route']>>[] | undefined
  readonly request: readonly ChainHook<NonNullable<PluginHooks['request']>>[]
  readonly upstreamRequest: readonly ChainHook<NonNullable<PluginHooks['upstream_request']>>[]
  readonly responseBody: readonly ChainHook<NonNullable<PluginHooks['response_body']>>[]
  readonly response: readonly ChainHook<NonNullable<PluginHooks['response']>>[]
  readonly log: readonly ChainHook<NonNullable<PluginHooks['log']>>[]
  readonly logger: Logger
}

/**
 * Compiles the chain for a list of instance names (server globals first, then the location's):
 * duplicates dropped, ordered by priority (higher first; equal priorities keep list order).
 * Undefined when the list is empty, so a location without plugins pays nothing per request.
 */
export function compileChain(
  names: readonly string[],
  instances: ReadonlyMap<string, PluginInstance>,
  logger: Logger,
): PluginChain | undefined {
  if (names.length === 0) return undefined
  const seen = new Set<string>()
  const ordered: PluginInstance[] = []
  for (const name of names) {
    if (seen.has(name)) continue
    seen.add(name)
    const instance = instances.get(name)
    if (instance === undefined) throw new Error(`unknown plugin "${name}"`)
    ordered.push(instance)
  }
  // Array.prototype.sort is stable, so equal priorities (two instances of one type) keep list order.
  ordered.sort((a, b) => b.priority - a.priority)
  return {
    names: ordered.map((i) => i.name),
    preRoute: orUndefined(bindPhase(ordered, 'pre_route')),
    request: bindPhase(ordered, 'request'),
    upstreamRequest: bindPhase(ordered, 'upstream_request'),
    responseBody: bindPhase(ordered, 'response_body'),
    response: bindPhase(ordered, 'response'),
    log: bindPhase(ordered, 'log'),
    logger,
  }
}

function bindPhase<P extends keyof PluginHooks>(ordered: readonly PluginInstance[], phase: P): ChainHook<NonNullable<PluginHooks[P]>>[] {
  const out: ChainHook<NonNullable<PluginHooks[P]>>[] = []
  for (const instance of ordered) {
    const hook = instance.hooks[phase]
    if (hook !== undefined) out.push({ name: instance.name, run: hook.bind(instance.hooks) as NonNullable<PluginHooks[P]> })
  }
  return out
}

function orUndefined<T>(hooks: T[]): T[] | undefined {
  return hooks.length === 0 ? undefined : hooks
}

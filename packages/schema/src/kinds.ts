/** The resource kinds that live under `desired/<kind>/<name>`. */
export const RESOURCE_KINDS = ['upstreams', 'locations', 'servers', 'plugins', 'certificates'] as const
export type ResourceKind = (typeof RESOURCE_KINDS)[number]
/** Singleton sections (`desired/<section>`). */
export const SINGLETON_SECTIONS = ['basic', 'metrics', 'tracing'] as const
export type SingletonSection = (typeof SINGLETON_SECTIONS)[number]

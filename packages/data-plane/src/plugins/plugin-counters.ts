import type { PluginReply } from './types.ts'

/**
 * Process-wide counts of what plugins did that operators alert on, read by /metrics at scrape
 * time: hook failures (a throw: a bug, answered 500) by plugin and phase, and refusals (a reply
 * with status >= 400 from the request phase: 401, 403, 429, ...) by plugin and code. Keys are
 * `plugin NUL label`; plugin names come from the config, so the label sets stay bounded.
 */
export interface PluginCounters {
  readonly failures: Map<string, number>
  readonly refusals: Map<string, number>
}

/** The process's counters (one gateway per process; reset only by a restart, like any counter). */
export const pluginCounters: PluginCounters = { failures: new Map(), refusals: new Map() }

/** Counts a hook that threw or rejected. */
export function countPluginFailure(plugin: string, phase: string): void {
  const key = `${plugin}\u0000${phase}`
  pluginCounters.failures.set(key, (pluginCounters.failures.get(key) ?? 0) + 1)
}

/** Counts a request-phase reply when it refuses the request (status >= 400); the code is its `x-fleetgate-error` or its status. */
export function countPluginReply(plugin: string, reply: PluginReply): void {
  if (reply.status < 400) return
  const code = reply.headers?.['x-fleetgate-error']
  const key = `${plugin}\u0000${typeof code === 'string' ? code : String(reply.status)}`
  pluginCounters.refusals.set(key, (pluginCounters.refusals.get(key) ?? 0) + 1)
}

/** Splits a counter key into its plugin and label. */
export function splitCounterKey(key: string): [plugin: string, label: string] {
  const i = key.indexOf('\u0000')
  return [key.slice(0, i), key.slice(i + 1)]
}

/**
 * Names JavaScript gives a meaning on every object: a resource called so would be dropped (or
 * shadowed) when the config is built into objects, so they are refused as names.
 */
export const RESERVED_NAMES: readonly string[] = ['__proto__', 'constructor', 'prototype']

/** Names of resources: what a TOML table key or an etcd key segment may be (reserved names excluded). */
export const NAME_PATTERN = `^(?!(?:${RESERVED_NAMES.join('|')})$)[A-Za-z0-9_][A-Za-z0-9_.:-]*$`

const namePattern = new RegExp(NAME_PATTERN)

/** Why `name` cannot name a resource, or undefined when it can. */
export function invalidNameReason(name: string): string | undefined {
  if (RESERVED_NAMES.includes(name)) return `invalid name "${name}": ${RESERVED_NAMES.map((n) => `"${n}"`).join(', ')} are reserved`
  return namePattern.test(name) ? undefined : `invalid name "${name}": use letters, digits and _ . : - (not starting with . : -)`
}

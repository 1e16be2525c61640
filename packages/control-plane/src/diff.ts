import { canonicalJson, RESOURCE_KINDS, SINGLETON_SECTIONS } from '@fleetgate/schema'
import type { ConfigDiff } from './service-types.ts'

type Table = Record<string, unknown>
type Entry = { kind: string; name?: string; value: Table }

/**
 * Per-resource difference between two configs: resources (kind + name; singleton sections by kind
 * alone) added, removed, and changed with the top-level keys whose values differ. Key order and
 * formatting never count as a change.
 */
export function diffConfigs(from: Table, to: Table, generations: { from: number; to: number }): ConfigDiff {
  const before = indexEntries(from)
  const after = indexEntries(to)
  const diff: ConfigDiff = { from: generations.from, to: generations.to, added: [], removed: [], changed: [] }
  for (const [id, entry] of after) {
    const old = before.get(id)
    if (!old) diff.added.push(label(entry))
    else {
      const keys = changedKeys(old.value, entry.value)
      if (keys.length > 0) diff.changed.push({ ...label(entry), keys })
    }
  }
  for (const [id, entry] of before) if (!after.has(id)) diff.removed.push(label(entry))
  return diff
}

function label(entry: Entry): { kind: string; name?: string } {
  return entry.name === undefined ? { kind: entry.kind } : { kind: entry.kind, name: entry.name }
}

/** Resources by "kind/name" (or "kind"), in kind order then name order. */
function indexEntries(config: Table): Map<string, Entry> {
  const out = new Map<string, Entry>()
  for (const kind of SINGLETON_SECTIONS) {
    const value = config[kind]
    if (isTable(value) && Object.keys(value).length > 0) out.set(kind, { kind, value })
  }
  for (const kind of RESOURCE_KINDS) {
    const group = config[kind]
    if (!isTable(group)) continue
    for (const name of Object.keys(group).sort()) {
      const value = group[name]
      out.set(`${kind}/${name}`, { kind, name, value: isTable(value) ? value : { value } })
    }
  }
  return out
}

function changedKeys(a: Table, b: Table): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)])
  return [...keys].filter((k) => canonicalJson(a[k]) !== canonicalJson(b[k])).sort()
}

function isTable(value: unknown): value is Table {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

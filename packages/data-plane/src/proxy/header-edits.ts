import { parseNameValue } from '@fleetgate/schema/runtime'

/** Header edits of one direction, compiled once per location: remove, then set, then add. */
export interface HeaderEdits {
  /** Lower-case names dropped from the message (removed and set names). */
  readonly drop: ReadonlySet<string>
  /** Flat [name, value, ...] appended after the kept headers (sets first, then adds). */
  readonly append: readonly string[]
  readonly isEmpty: boolean
}

const NO_EDITS: HeaderEdits = Object.freeze({ drop: new Set<string>(), append: [], isEmpty: true })

/** Compiles `*_add`, `*_set` and `*_remove` lists ("Name:value" / "Name") into HeaderEdits. */
export function compileHeaderEdits(add: readonly string[], set: readonly string[], remove: readonly string[]): HeaderEdits {
  // Most locations edit nothing: share one empty plan (cheap compiles of configs with many locations).
  if (add.length === 0 && set.length === 0 && remove.length === 0) return NO_EDITS
  const drop = new Set(remove.map((n) => n.trim().toLowerCase()))
  const append: string[] = []
  for (const spec of set) {
    const { name, value } = parseNameValue(spec, false)
    drop.add(name.toLowerCase())
    append.push(name, value ?? '')
  }
  for (const spec of add) {
    const { name, value } = parseNameValue(spec, false)
    append.push(name, value ?? '')
  }
  return { drop, append, isEmpty: drop.size === 0 && append.length === 0 }
}

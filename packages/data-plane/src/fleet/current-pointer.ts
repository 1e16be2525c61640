import type { CurrentPointer } from '@fleetgate/schema'
import { parseCurrentPointer as parseCurrentRecord, storeKeys } from '@fleetgate/schema/runtime'
import type { Store } from '@fleetgate/store'

/** `current` as read at one store revision; `value` is undefined when nothing is published. */
export interface CurrentRead {
  value: Buffer | undefined
  /** The store revision of the read (a watch continues from revision + 1). */
  revision: number
}

/**
 * Reads `current` together with the store revision it was read at. A prefix read is the one store
 * call that returns the read revision even when the key is missing, so longer keys are filtered out.
 * Throws a StoreError when the store cannot be read.
 */
export async function readCurrent(store: Store): Promise<CurrentRead> {
  const read = await store.getPrefix(storeKeys.current)
  return { value: read.kvs.find((kv) => kv.key === storeKeys.current)?.value, revision: read.revision }
}

/** Parses a `current` value ({gen, sha256}, checked as the control plane checks it); throws naming what is wrong. */
export function parseCurrentPointer(value: Buffer): CurrentPointer {
  const parsed = parseCurrentRecord(value)
  if (!parsed.ok) throw new Error(parsed.problem.message)
  return parsed.value
}

/** True when both pointers name the same generation and content. */
export function samePointer(a: CurrentPointer | undefined, b: CurrentPointer | undefined): boolean {
  return a !== undefined && b !== undefined && a.gen === b.gen && a.sha256 === b.sha256
}

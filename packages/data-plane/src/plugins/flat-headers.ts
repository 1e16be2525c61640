/*
 * Headers on the proxy path travel as flat [name, value, name, value, ...] lists (what undici
 * and writeHead take without conversion). These are the edits plugins make on such lists;
 * names compare case-insensitively.
 */
import { isHeaderName } from '../proxy/header-name.ts'

/** Lower-cased names plugins ask for (constants of their config: a bounded set), so no call allocates one. */
const LOWER = new Map<string, string>()
const MAX_NAMES = 1024

function lowerOf(name: string): string {
  let lower = LOWER.get(name)
  if (lower === undefined) {
    lower = name.toLowerCase()
    if (LOWER.size < MAX_NAMES) LOWER.set(name, lower)
  }
  return lower
}

/** The first value of header `name`, or undefined. */
export function getFlatHeader(flat: readonly string[], name: string): string | undefined {
  const lower = lowerOf(name)
  for (let i = 0; i < flat.length; i += 2) if (isHeaderName(flat[i] as string, lower)) return flat[i + 1]
  return undefined
}

/** Removes every header named `name`. */
export function removeFlatHeader(flat: string[], name: string): void {
  const lower = lowerOf(name)
  let found = -1
  for (let r = 0; r < flat.length; r += 2) {
    if (isHeaderName(flat[r] as string, lower)) {
      found = r
      break
    }
  }
  // Most calls find nothing (a header set for the first time): the list is left untouched.
  if (found < 0) return
  let w = found
  for (let r = found; r < flat.length; r += 2) {
    if (isHeaderName(flat[r] as string, lower)) continue
    flat[w++] = flat[r] as string
    flat[w++] = flat[r + 1] as string
  }
  flat.length = w
}

/** Replaces every header named `name` with one of value `value`. */
export function setFlatHeader(flat: string[], name: string, value: string): void {
  removeFlatHeader(flat, name)
  flat.push(name, value)
}

/** Sets `name` only when the list has no such header yet. */
export function defaultFlatHeader(flat: string[], name: string, value: string): void {
  if (getFlatHeader(flat, name) === undefined) flat.push(name, value)
}

/** Adds `token` to a comma-separated header such as Vary, once. */
export function appendFlatToken(flat: string[], name: string, token: string): void {
  const lower = lowerOf(name)
  for (let i = 0; i < flat.length; i += 2) {
    if (!isHeaderName(flat[i] as string, lower)) continue
    const value = flat[i + 1] as string
    if (value.split(',').some((t) => t.trim().toLowerCase() === token.toLowerCase() || t.trim() === '*')) return
    flat[i + 1] = value === '' ? token : `${value}, ${token}`
    return
  }
  flat.push(name, token)
}

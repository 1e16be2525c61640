/*
 * Headers on the proxy path travel as flat [name, value, name, value, ...] lists (what undici
 * and writeHead take without conversion). These are the edits plugins make on such lists;
 * names compare case-insensitively.
 */

/** The first value of header `name`, or undefined. */
export function getFlatHeader(flat: readonly string[], name: string): string | undefined {
  const lower = name.toLowerCase()
  for (let i = 0; i < flat.length; i += 2) if ((flat[i] as string).toLowerCase() === lower) return flat[i + 1]
  return undefined
}

/** Removes every header named `name`. */
export function removeFlatHeader(flat: string[], name: string): void {
  const lower = name.toLowerCase()
  let w = 0
  for (let r = 0; r < flat.length; r += 2) {
    if ((flat[r] as string).toLowerCase() === lower) continue
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
  const lower = name.toLowerCase()
  for (let i = 0; i < flat.length; i += 2) {
    if ((flat[i] as string).toLowerCase() !== lower) continue
    const value = flat[i + 1] as string
    if (value.split(',').some((t) => t.trim().toLowerCase() === token.toLowerCase() || t.trim() === '*')) return
    flat[i + 1] = value === '' ? token : `${value}, ${token}`
    return
  }
  flat.push(name, token)
}

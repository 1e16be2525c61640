/**
 * Removes cookie `name` from the Cookie header(s) of a flat [name, value, ...] request header
 * list, keeping the other cookies byte for byte; a Cookie header left empty is dropped. The
 * list is untouched (nothing allocated) when no Cookie header carries that cookie.
 */
export function stripFlatCookie(flat: string[], name: string): void {
  let w = 0
  for (let r = 0; r < flat.length; r += 2) {
    const header = flat[r] as string
    let value = flat[r + 1] as string
    if (header.length === 6 && header.toLowerCase() === 'cookie' && value.includes(name)) {
      value = withoutCookie(value, name)
      if (value === '') continue
    }
    flat[w++] = header
    flat[w++] = value
  }
  flat.length = w
}

/** `header` ("a=1; b=2") without the pairs named `name`. */
function withoutCookie(header: string, name: string): string {
  const kept: string[] = []
  let removed = false
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=')
    if ((eq < 0 ? pair : pair.slice(0, eq)).trim() === name) removed = true
    else if (pair.trim() !== '') kept.push(pair.trim())
  }
  return removed ? kept.join('; ') : header
}

/**
 * The first value of parameter `name` in a query string (no leading "?"), decoded the way
 * URLSearchParams decodes it ("+" is a space, %XX escapes), or undefined. A plugin reads one
 * or two parameters of a request, so the query is scanned in place instead of being parsed
 * whole into a URLSearchParams (an object, a pair list and a string per parameter).
 */
export function queryParam(query: string, name: string): string | undefined {
  const length = query.length
  let start = 0
  while (start < length) {
    let end = query.indexOf('&', start)
    if (end < 0) end = length
    let eq = query.indexOf('=', start)
    if (eq < 0 || eq > end) eq = end
    // Empty pairs ("a=1&&b=2") are skipped, as URLSearchParams skips them.
    if (end > start && nameIs(query, start, eq, name)) return eq === end ? '' : decodeFormComponent(query.slice(eq + 1, end))
    start = end + 1
  }
  return undefined
}

/** Whether query[start, end), decoded, is `name`. */
function nameIs(query: string, start: number, end: number, name: string): boolean {
  // A raw match without escapes in it decodes to itself: no string is made for the common case.
  if (end - start === name.length && query.startsWith(name, start) && !name.includes('%') && !name.includes('+')) return true
  const raw = query.slice(start, end)
  return (raw.includes('%') || raw.includes('+')) && decodeFormComponent(raw) === name
}

/** application/x-www-form-urlencoded decoding of one name or value. */
function decodeFormComponent(text: string): string {
  if (!text.includes('%') && !text.includes('+')) return text
  try {
    return decodeURIComponent(text.replaceAll('+', ' '))
  } catch {
    // A malformed escape ("%zz", a lone surrogate): URLSearchParams keeps such bytes as they are.
    return new URLSearchParams(`x=${text}`).get('x') as string
  }
}

/**
 * Removes every parameter `name` from a request target ("/p?a=1&key=x" -> "/p?a=1"). The other
 * parameters keep their bytes (a URLSearchParams round trip would re-encode them: "%20" -> "+").
 */
export function stripQueryParam(target: string, name: string): string {
  const q = target.indexOf('?')
  if (q < 0) return target
  const length = target.length
  let kept = ''
  let removed = false
  let start = q + 1
  while (start < length) {
    let end = target.indexOf('&', start)
    if (end < 0) end = length
    let eq = target.indexOf('=', start)
    if (eq < 0 || eq > end) eq = end
    if (end > start && nameIs(target, start, eq, name)) removed = true
    else if (end > start) kept = kept === '' ? target.slice(start, end) : `${kept}&${target.slice(start, end)}`
    start = end + 1
  }
  if (!removed) return target
  return kept === '' ? target.slice(0, q) : `${target.slice(0, q)}?${kept}`
}

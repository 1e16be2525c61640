/**
 * Tests one query parameter against the raw query string without parsing it into an
 * object, so requests whose routes have no query condition pay nothing and the rest pay
 * a scan. Only segments containing "%" or "+" are decoded (form encoding: "+" is a space).
 */
export function hasQueryParam(query: string, name: string, value: string | undefined): boolean {
  let start = 0
  while (start < query.length) {
    let end = query.indexOf('&', start)
    if (end < 0) end = query.length
    if (end > start && segmentMatches(query, start, end, name, value)) return true
    start = end + 1
  }
  return false
}

function segmentMatches(query: string, start: number, end: number, name: string, value: string | undefined): boolean {
  const eq = query.indexOf('=', start)
  const keyEnd = eq < 0 || eq > end ? end : eq
  if (!rangeEquals(query, start, keyEnd, name)) return false
  if (value === undefined) return true
  return rangeEquals(query, keyEnd === end ? end : keyEnd + 1, end, value)
}

function rangeEquals(text: string, start: number, end: number, expected: string): boolean {
  if (isEncoded(text, start, end)) return decode(text.slice(start, end)) === expected
  return end - start === expected.length && text.startsWith(expected, start)
}

function isEncoded(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x25 || c === 0x2b) return true
  }
  return false
}

function decode(raw: string): string {
  const spaced = raw.replaceAll('+', ' ')
  try {
    return decodeURIComponent(spaced)
  } catch {
    // A malformed escape cannot equal a configured value in decoded form; compare it as sent.
    return spaced
  }
}

/**
 * Removes "." and ".." segments (RFC 3986 5.2.4), including percent-encoded dots, so a path
 * like "/public/../admin" is routed as "/admin" and cannot slip past a prefix rule.
 * Returns the input unchanged (no allocation) when there is nothing to normalize.
 */
export function normalizePath(path: string): string {
  if (!path.includes('/.') && !/%2e/i.test(path)) return path
  const segments = path.split('/')
  const out: string[] = []
  for (let i = 1; i < segments.length; i++) {
    const segment = (segments[i] as string).replace(/%2e/gi, '.')
    const isLast = i === segments.length - 1
    if (segment === '.') {
      if (isLast) out.push('')
    } else if (segment === '..') {
      out.pop()
      if (isLast) out.push('')
    } else {
      out.push(segments[i] as string)
    }
  }
  return `/${out.join('/')}`
}

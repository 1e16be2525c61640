/**
 * Whether header name `name` (as received: any case) is `lower` (already lower-case), without
 * making a lower-cased copy: header lists are searched several times per request, and
 * `name.toLowerCase()` allocates a string for every name that has a capital letter
 * ("Content-Type" from most backends). Lengths differ for most pairs, so most checks are one
 * comparison.
 */
export function isHeaderName(name: string, lower: string): boolean {
  const length = lower.length
  if (name.length !== length) return false
  if (name === lower) return true
  for (let i = 0; i < length; i++) {
    let c = name.charCodeAt(i)
    // ASCII A-Z to a-z; header names are tokens, so nothing else needs folding.
    if (c >= 65 && c <= 90) c += 32
    if (c !== lower.charCodeAt(i)) return false
  }
  return true
}

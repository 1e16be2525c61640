/**
 * Picks what to serve for a TLS server name: an exact name, then a one-label wildcard
 * ("*.example.com" matches "a.example.com", not "example.com" nor "a.b.example.com"), then the
 * default. Names are compared lower-case; the first entry added for a name wins.
 */
export interface SniTable<T> {
  /** Adds `value` for a domain ("example.com" or "*.example.com"); false when the domain was already taken. */
  add(domain: string, value: T): boolean
  setDefault(value: T): void
  lookup(servername: string | undefined): T | undefined
}

/** Creates an empty SNI table. */
export function createSniTable<T>(): SniTable<T> {
  const exact = new Map<string, T>()
  const wildcard = new Map<string, T>()
  let fallback: T | undefined
  return {
    add(domain, value) {
      const name = domain.toLowerCase()
      const map = name.startsWith('*.') ? wildcard : exact
      const key = name.startsWith('*.') ? name.slice(2) : name
      if (map.has(key)) return false
      map.set(key, value)
      return true
    },
    setDefault(value) {
      fallback = value
    },
    lookup(servername) {
      if (servername === undefined || servername === '') return fallback
      const name = servername.toLowerCase()
      const hit = exact.get(name)
      if (hit !== undefined) return hit
      const dot = name.indexOf('.')
      if (dot > 0) {
        const wild = wildcard.get(name.slice(dot + 1))
        if (wild !== undefined) return wild
      }
      return fallback
    },
  }
}

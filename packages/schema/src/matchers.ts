/** A host pattern: exact name, "*.suffix" (subdomains only) or "~regex". */
export type HostPattern = { kind: 'exact'; host: string } | { kind: 'wildcard'; suffix: string } | { kind: 'regex'; regex: RegExp }

/** Parses one host pattern; lower-cases names; throws on a bad regex. */
export function parseHostPattern(text: string): HostPattern {
  const t = text.trim()
  if (t.startsWith('~')) return { kind: 'regex', regex: compileRegex(t.slice(1), 'i') }
  const host = t.toLowerCase().replace(/:\d+$/, '')
  if (host.startsWith('*.')) return { kind: 'wildcard', suffix: host.slice(1) }
  if (!/^[a-z0-9_.-]+$|^\[[0-9a-f:.]+\]$/.test(host)) throw new Error(`invalid host "${text}"`)
  return { kind: 'exact', host }
}

/** A path pattern: "=exact", "~regex", or a prefix ("" matches every path). */
export type PathPattern = { kind: 'exact'; path: string } | { kind: 'prefix'; prefix: string } | { kind: 'regex'; regex: RegExp }

/** Parses one path pattern; throws on a bad regex or a path not starting with "/". */
export function parsePathPattern(text: string): PathPattern {
  if (text.startsWith('=')) return { kind: 'exact', path: requireSlash(text.slice(1)) }
  if (text.startsWith('~')) return { kind: 'regex', regex: compileRegex(text.slice(1), '') }
  return { kind: 'prefix', prefix: text === '' ? '' : requireSlash(text) }
}

function requireSlash(path: string): string {
  if (!path.startsWith('/')) throw new Error(`path "${path}" must start with "/"`)
  return path
}

/** A rewrite: replace the matched prefix, or a regex with a replacement using $1 / $name. */
export type RewriteSpec = { kind: 'prefix'; replacement: string } | { kind: 'regex'; regex: RegExp; replacement: string }

/**
 * Parses `rewrite`: "REGEX REPLACEMENT" (two fields) is a regex rewrite; a single field
 * replaces the location's matched prefix (or the whole path for non-prefix locations).
 */
export function parseRewrite(text: string): RewriteSpec {
  const parts = text.trim().split(/\s+/)
  if (parts.length === 2) {
    return { kind: 'regex', regex: compileRegex(parts[0] as string, ''), replacement: toJsReplacement(parts[1] as string) }
  }
  if (parts.length === 1 && parts[0] !== '') return { kind: 'prefix', replacement: parts[0] as string }
  throw new Error(`invalid rewrite "${text}" (use "/new-prefix" or "REGEX REPLACEMENT")`)
}

/** Turns "$name" references into JavaScript's "$<name>"; "$1" stays as it is. */
function toJsReplacement(replacement: string): string {
  return replacement
    .replace(/\$([A-Za-z_][A-Za-z0-9_]*)/g, '$<$1>')
    .replace(/\$\{(\w+)\}/g, (_, n: string) => (/^\d+$/.test(n) ? `$${n}` : `$<${n}>`))
}

/** A "name:value" (or bare "name") header or query condition/edit. */
export interface NameValue {
  name: string
  value: string | undefined
}

/** Parses "name:value" or "name"; header names are lower-cased when `lowerName`. */
export function parseNameValue(text: string, lowerName: boolean): NameValue {
  const i = text.indexOf(':')
  const name = (i < 0 ? text : text.slice(0, i)).trim()
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) throw new Error(`invalid name in "${text}"`)
  return { name: lowerName ? name.toLowerCase() : name, value: i < 0 ? undefined : text.slice(i + 1).trim() }
}

/** Compiles a user regex, turning a SyntaxError into a readable message. */
export function compileRegex(source: string, flags: string): RegExp {
  try {
    return new RegExp(source, flags)
  } catch (err) {
    throw new Error(`invalid regex "${source}": ${(err as Error).message}`, { cause: err })
  }
}

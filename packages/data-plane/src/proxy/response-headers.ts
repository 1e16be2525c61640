import type { HeaderEdits } from './header-edits.ts'
import { HOP_BY_HOP } from './hop-by-hop.ts'

/** A Connection header that names no other header. */
const PLAIN_CONNECTION = /^\s*(?:keep-alive|close)\s*$/i

/**
 * The client response's headers as a flat [name, value, ...] list from the upstream's raw
 * headers: hop-by-hop ones dropped (Node frames the response itself), edits and Via applied.
 */
export function buildResponseHeaders(raw: readonly Buffer[], edits: HeaderEdits, via: string | undefined): string[] {
  const out: string[] = []
  let extraHop: Set<string> | undefined
  let upstreamVia: string | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as Buffer).toString('latin1')
    const lower = name.toLowerCase()
    if (lower === 'connection') {
      // Nearly every backend sends just "keep-alive" or "close", both hop-by-hop anyway.
      const value = (raw[i + 1] as Buffer).toString('latin1')
      if (!PLAIN_CONNECTION.test(value)) extraHop = new Set(value.toLowerCase().split(/\s*,\s*/))
      continue
    }
    if (HOP_BY_HOP.has(lower) || edits.drop.has(lower)) continue
    if (lower === 'via') {
      upstreamVia = (raw[i + 1] as Buffer).toString('latin1')
      continue
    }
    out.push(name, (raw[i + 1] as Buffer).toString('latin1'))
  }
  if (extraHop !== undefined) dropNames(out, extraHop)
  if (via !== undefined) out.push('via', upstreamVia === undefined ? via : `${upstreamVia}, ${via}`)
  else if (upstreamVia !== undefined) out.push('via', upstreamVia)
  for (let i = 0; i < edits.append.length; i++) out.push(edits.append[i] as string)
  return out
}

function dropNames(flat: string[], names: ReadonlySet<string>): void {
  let w = 0
  for (let r = 0; r < flat.length; r += 2) {
    if (names.has((flat[r] as string).toLowerCase())) continue
    flat[w++] = flat[r] as string
    flat[w++] = flat[r + 1] as string
  }
  flat.length = w
}

const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y
const SIZE = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i
const SIZE_FACTORS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }
const DURATION_FACTORS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** Parses a duration string ("500ms", "3s", "1m30s", "2h") into milliseconds; throws on a malformed value. */
export function parseDuration(text: string): number {
  let total = 0
  DURATION_PART.lastIndex = 0
  let consumed = 0
  while (consumed < text.length) {
    const m = DURATION_PART.exec(text)
    if (!m) throw new Error(`invalid duration "${text}" (use ms, s, m, h, for example "3s")`)
    total += Number(m[1]) * (DURATION_FACTORS[m[2] as string] as number)
    consumed = DURATION_PART.lastIndex
  }
  if (consumed === 0) throw new Error(`invalid duration "${text}"`)
  return total
}

/** Parses a size (string with b/kb/mb/gb, or a number of bytes) into bytes; throws on a malformed value. */
export function parseSize(value: string | number): number {
  if (typeof value === 'number') return value
  const m = SIZE.exec(value.trim())
  if (!m) throw new Error(`invalid size "${value}" (use b, kb, mb, gb, for example "1mb")`)
  return Math.floor(Number(m[1]) * (SIZE_FACTORS[(m[2] ?? 'b').toLowerCase()] as number))
}

/** True when `text` is a well-formed duration. */
export function isDuration(text: string): boolean {
  try {
    parseDuration(text)
    return true
  } catch {
    return false
  }
}

/** True when `text` is a well-formed size. */
export function isSize(text: string): boolean {
  return SIZE.test(text.trim())
}

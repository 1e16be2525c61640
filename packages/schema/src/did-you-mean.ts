/** Levenshtein distance between two short strings. */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] as number
    prev[0] = i
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j] as number
      prev[j] = Math.min(up + 1, (prev[j - 1] as number) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1))
      diag = up
    }
  }
  return prev[b.length] as number
}

/** A value an enum may hold: config enums are strings, and a few are numbers (redirect status). */
export type EnumValue = string | number | boolean

/**
 * The closest candidate to `word`, if one is close enough to be a likely typo. Strings are
 * compared by edit distance; a number or boolean only matches when it is written the same
 * (`"302"` for 302), as 399 is not a misspelt 301.
 */
export function closest<T extends EnumValue>(word: string, candidates: Iterable<T>): T | undefined {
  let best: T | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  const limit = Math.max(2, Math.floor(word.length / 3))
  for (const candidate of candidates) {
    const d =
      typeof candidate === 'string' ? distance(word.toLowerCase(), candidate.toLowerCase()) : String(candidate) === word ? 0 : Infinity
    if (d < bestDistance && d <= limit) {
      best = candidate
      bestDistance = d
    }
  }
  return best
}

/** " (did you mean "x"?)" (or " (did you mean 302?)" for a number) or "", for appending to an error message. */
export function didYouMean(word: string, candidates: Iterable<EnumValue>): string {
  const match = closest(word, candidates)
  if (match === undefined) return ''
  return typeof match === 'string' ? ` (did you mean "${match}"?)` : ` (did you mean ${match}?)`
}

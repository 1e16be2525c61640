/** One row of the edit-distance table, reused across calls (grown as needed). */
let row = new Uint32Array(64)

/**
 * Levenshtein distance between `a` and `b` when it is at most `max`; otherwise some number above
 * `max` (the work stops as soon as every cell of a row is over it).
 */
function boundedDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1
  if (row.length <= b.length) row = new Uint32Array(2 * (b.length + 1))
  for (let j = 0; j <= b.length; j++) row[j] = j
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0] as number
    row[0] = i
    let rowMin = i
    for (let j = 1; j <= b.length; j++) {
      const up = row[j] as number
      const cell = Math.min(up + 1, (row[j - 1] as number) + 1, diag + (a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1))
      row[j] = cell
      if (cell < rowMin) rowMin = cell
      diag = up
    }
    if (rowMin > max) return max + 1
  }
  return row[b.length] as number
}

/** A value an enum may hold: config enums are strings, and a few are numbers (redirect status). */
export type EnumValue = string | number | boolean

/**
 * The closest candidate to `word`, if one is close enough to be a likely typo (the first of equally
 * close ones). Strings are compared by edit distance; a number or boolean only matches when it is
 * written the same (`"302"` for 302), as 399 is not a misspelt 301.
 */
export function closest<T extends EnumValue>(word: string, candidates: Iterable<T>): T | undefined {
  const lower = word.toLowerCase()
  let best: T | undefined
  let bestDistance = typoLimit(word) + 1
  for (const candidate of candidates) {
    const d =
      typeof candidate === 'string'
        ? boundedDistance(lower, candidate.toLowerCase(), bestDistance - 1)
        : String(candidate) === word
          ? 0
          : Number.POSITIVE_INFINITY
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
      if (d === 0) break
    }
  }
  return best
}

/** The largest edit distance still taken for a typo of `word`. */
function typoLimit(word: string): number {
  return Math.max(2, Math.floor(word.length / 3))
}

/** Name comparisons one suggester makes in all; past them it suggests nothing (about 0.1 s of work). */
const SUGGESTER_BUDGET = 1_000_000

/**
 * {@link didYouMean} against one list of names, for many words (every unknown reference of a config
 * to, say, its upstreams). The names are lowercased once, and after {@link SUGGESTER_BUDGET}
 * comparisons it answers "": 5,000 unknown references to 5,000 upstreams would otherwise take seconds
 * for hints the first few hundred errors already give.
 */
export function createSuggester(names: () => readonly string[]): (word: string) => string {
  let lowered: string[] | undefined
  let original: readonly string[] = []
  let budget = SUGGESTER_BUDGET
  return (word) => {
    if (lowered === undefined) {
      original = names()
      lowered = original.map((n) => n.toLowerCase())
    }
    if (budget < lowered.length) return ''
    budget -= lowered.length
    const lower = word.toLowerCase()
    let best = -1
    let bestDistance = typoLimit(word) + 1
    for (let i = 0; i < lowered.length && bestDistance > 0; i++) {
      const d = boundedDistance(lower, lowered[i] as string, bestDistance - 1)
      if (d < bestDistance) {
        best = i
        bestDistance = d
      }
    }
    return best < 0 ? '' : ` (did you mean "${original[best]}"?)`
  }
}

/** " (did you mean "x"?)" (or " (did you mean 302?)" for a number) or "", for appending to an error message. */
export function didYouMean(word: string, candidates: Iterable<EnumValue>): string {
  const match = closest(word, candidates)
  if (match === undefined) return ''
  return typeof match === 'string' ? ` (did you mean "${match}"?)` : ` (did you mean ${match}?)`
}

/** The value at quantile q (0..1) of `values`, interpolated between neighbours (0.5: the median). */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  const at = (sorted.length - 1) * q
  const lo = Math.floor(at)
  const hi = Math.ceil(at)
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (at - lo)
}

export const median = (values: readonly number[]): number => quantile(values, 0.5)

/** A ratio as a signed change in percent: 0.85 is "-15%", 1.2 is "+20%". */
export function percentChange(ratio: number, decimals = 0): string {
  return `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(decimals)}%`
}

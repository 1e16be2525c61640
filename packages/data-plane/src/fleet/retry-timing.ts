/** `ms` moved randomly by up to ±20%, so a fleet's timers do not fire in step. */
export function jittered(ms: number): number {
  return Math.round(ms * (0.8 + Math.random() * 0.4))
}

/** The n-th (from 0) retry delay: doubling from `firstMs`, never above `maxMs`. */
export function backoffDelay(attempt: number, firstMs: number, maxMs: number): number {
  return Math.min(maxMs, firstMs * 2 ** Math.min(attempt, 20))
}

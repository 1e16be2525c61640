import type { Backend, BalanceRequest, Balancer } from '../types.ts'

/**
 * Fewest requests in flight relative to weight (inflight / weight, compared without
 * dividing). The scan starts one past the last pick so equally loaded backends take turns
 * instead of the first one taking every request.
 */
export function createLeastConnBalancer(backends: readonly Backend[], now: () => number = Date.now): Balancer {
  const n = backends.length
  let start = 0
  return {
    pick(_req: BalanceRequest | undefined, exclude?: ReadonlySet<Backend>) {
      const at = now()
      let best: Backend | undefined
      let bestIndex = -1
      for (let k = 0; k < n; k++) {
        const i = (start + k) % n
        const b = backends[i] as Backend
        if (exclude?.has(b) || !b.isAvailable(at)) continue
        if (best === undefined || b.inflight * best.weight < best.inflight * b.weight) {
          best = b
          bestIndex = i
        }
      }
      if (best !== undefined) start = (bestIndex + 1) % n
      return best
    },
  }
}

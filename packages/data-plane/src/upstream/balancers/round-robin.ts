import type { Backend, BalanceRequest, Balancer } from '../types.ts'

/**
 * Smooth weighted round-robin, as nginx does it: on each pick every eligible backend's
 * current weight grows by its weight, the largest wins and loses the total. Weights 1:3
 * give B A B B, interleaved rather than in batches, and exact shares over a full cycle.
 */
export function createRoundRobinBalancer(backends: readonly Backend[], now: () => number = Date.now): Balancer {
  const current = new Float64Array(backends.length)
  return {
    pick(_req: BalanceRequest | undefined, exclude?: ReadonlySet<Backend>) {
      const at = now()
      let total = 0
      let best = -1
      for (let i = 0; i < backends.length; i++) {
        const b = backends[i] as Backend
        if (exclude?.has(b) || !b.isAvailable(at)) continue
        current[i] = (current[i] as number) + b.weight
        total += b.weight
        if (best === -1 || (current[i] as number) > (current[best] as number)) best = i
      }
      if (best === -1) return undefined
      current[best] = (current[best] as number) - total
      return backends[best]
    },
  }
}

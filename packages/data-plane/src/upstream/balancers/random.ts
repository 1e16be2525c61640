import type { Backend, BalanceRequest, Balancer } from '../types.ts'

/** Weighted random: each eligible backend is chosen with probability weight / total weight. */
export function createRandomBalancer(
  backends: readonly Backend[],
  now: () => number = Date.now,
  random: () => number = Math.random,
): Balancer {
  const eligible = (b: Backend, at: number, exclude: ReadonlySet<Backend> | undefined) => !exclude?.has(b) && b.isAvailable(at)
  return {
    pick(_req: BalanceRequest | undefined, exclude?: ReadonlySet<Backend>) {
      const at = now()
      let total = 0
      for (let i = 0; i < backends.length; i++) {
        const b = backends[i] as Backend
        if (eligible(b, at, exclude)) total += b.weight
      }
      if (total === 0) return undefined
      let r = random() * total
      let last: Backend | undefined
      for (let i = 0; i < backends.length; i++) {
        const b = backends[i] as Backend
        // Availability is read again rather than remembered: remembering would allocate.
        if (!eligible(b, at, exclude)) continue
        last = b
        r -= b.weight
        if (r < 0) return b
      }
      return last
    },
  }
}

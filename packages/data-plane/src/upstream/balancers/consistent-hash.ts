import type { Backend, BalanceRequest, Balancer } from '../types.ts'
import { buildHashRing, ringPosition } from './hash-ring.ts'
import type { RequestKeyHash } from './request-key.ts'
import { createRoundRobinBalancer } from './round-robin.ts'

/**
 * Consistent hashing over a ring of virtual nodes: a key keeps its backend while that
 * backend is available, and adding a backend moves only about 1/N of the keys (all to the
 * new one). Unavailable or excluded backends are skipped by walking on along the ring;
 * requests without a key are spread by smooth weighted round-robin.
 */
export function createConsistentHashBalancer(
  backends: readonly Backend[],
  keyHash: RequestKeyHash,
  now: () => number = Date.now,
): Balancer {
  const ring = buildHashRing(backends)
  const fallback = createRoundRobinBalancer(backends, now)
  const eligible = (b: Backend, at: number, exclude: ReadonlySet<Backend> | undefined) => !exclude?.has(b) && b.isAvailable(at)
  return {
    pick(req: BalanceRequest, exclude?: ReadonlySet<Backend>) {
      const hash = keyHash(req)
      if (hash === -1) return fallback.pick(req, exclude)
      const at = now()
      // Checked first so that a pool with nothing available costs N checks, not a walk of the ring.
      let any = false
      for (let i = 0; i < backends.length && !any; i++) any = eligible(backends[i] as Backend, at, exclude)
      if (!any) return undefined
      const { owners } = ring
      for (let k = ringPosition(ring, hash), steps = 0; steps < owners.length; steps++) {
        const b = backends[owners[k] as number] as Backend
        if (eligible(b, at, exclude)) return b
        k = k + 1 === owners.length ? 0 : k + 1
      }
      return undefined
    },
  }
}

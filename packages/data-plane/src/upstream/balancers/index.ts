import type { Algorithm } from '@fleetgate/schema'
import type { Backend, Balancer } from '../types.ts'
import { createConsistentHashBalancer } from './consistent-hash.ts'
import { createLeastConnBalancer } from './least-conn.ts'
import { createRandomBalancer } from './random.ts'
import { createRequestKeyHash } from './request-key.ts'
import { createRoundRobinBalancer } from './round-robin.ts'

/**
 * The balancer for `algorithm` (from parseAlgorithm) over `backends`, built once per
 * upstream. `now` is the clock handed to Backend.isAvailable (Date.now by default).
 */
export function createBalancer(algorithm: Algorithm, backends: readonly Backend[], now: () => number = Date.now): Balancer {
  switch (algorithm.kind) {
    case 'round_robin':
      return createRoundRobinBalancer(backends, now)
    case 'least_conn':
      return createLeastConnBalancer(backends, now)
    case 'random':
      return createRandomBalancer(backends, now)
    case 'ip_hash':
    case 'hash':
      return createConsistentHashBalancer(backends, createRequestKeyHash(algorithm.kind === 'hash' ? algorithm : { source: 'ip' }), now)
  }
}

export { createConsistentHashBalancer } from './consistent-hash.ts'
export { buildHashRing, hash32 } from './hash-ring.ts'
export { createLeastConnBalancer } from './least-conn.ts'
export { createRandomBalancer } from './random.ts'
export { createRequestKeyHash, type KeySource, type RequestKeyHash } from './request-key.ts'
export { createRoundRobinBalancer } from './round-robin.ts'

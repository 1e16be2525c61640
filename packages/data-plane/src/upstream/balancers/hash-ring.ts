import type { Backend } from '../types.ts'

/** Virtual nodes per unit of weight: enough for an even spread with a handful of backends. */
const POINTS_PER_WEIGHT = 160
/** Ring size cap, so extreme weights (up to 10,000 each) cannot build a huge ring. */
const MAX_POINTS = 1 << 20
/** Backend indexes are packed below the hash in one float64 sort key. */
const OWNER_SPACE = 1 << 20

/**
 * 32-bit FNV-1a over `text[start, end)` followed by murmur3's fmix32 finalizer: FNV alone
 * spreads near-identical keys ("a#1", "a#2") poorly on the ring.
 */
export function hash32(text: string, start = 0, end = text.length): number {
  let h = 0x811c9dc5
  for (let i = start; i < end; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** A consistent-hash ring: sorted point hashes and, in step, the index of each point's backend. */
export interface HashRing {
  readonly points: Uint32Array
  readonly owners: Uint32Array
}

/**
 * Builds the ring with POINTS_PER_WEIGHT x weight points per backend, each placed by
 * hashing "id#n". Points depend only on a backend's id and weight, so adding a backend
 * adds points and moves nothing between the others.
 */
export function buildHashRing(backends: readonly Backend[]): HashRing {
  let wanted = 0
  for (const b of backends) wanted += POINTS_PER_WEIGHT * b.weight
  const scale = wanted > MAX_POINTS ? MAX_POINTS / wanted : 1
  const keys: number[] = []
  backends.forEach((b, owner) => {
    const count = Math.max(1, Math.round(POINTS_PER_WEIGHT * b.weight * scale))
    for (let n = 0; n < count; n++) keys.push(hash32(`${b.id}#${n}`) * OWNER_SPACE + owner)
  })
  const sorted = Float64Array.from(keys).sort()
  const points = new Uint32Array(sorted.length)
  const owners = new Uint32Array(sorted.length)
  for (let i = 0; i < sorted.length; i++) {
    const key = sorted[i] as number
    owners[i] = key % OWNER_SPACE
    points[i] = (key - (owners[i] as number)) / OWNER_SPACE
  }
  return { points, owners }
}

/** Index of the first ring point at or after `hash`, wrapping to 0 past the end (binary search). */
export function ringPosition(ring: HashRing, hash: number): number {
  const { points } = ring
  let lo = 0
  let hi = points.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((points[mid] as number) < hash) lo = mid + 1
    else hi = mid
  }
  return lo === points.length ? 0 : lo
}

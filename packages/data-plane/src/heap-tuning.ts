import { setFlagsFromString } from 'node:v8'

let tuned = false

/**
 * V8 settings for a proxy's allocation pattern, applied once per process before it serves.
 *
 * Allocation-site pretenuring is off. V8 moves an allocation site to old space when most of its
 * objects survive a scavenge. Under load, the objects of in-flight requests (a plugin context,
 * its closures) survive one often enough to tip that decision; from then on every request
 * allocates them in old space. The heap then grew by about 8 MB per scavenge, each scavenge
 * took 15-30 ms instead of 1-2 (old-to-new references to scan), and the collector's share of a
 * request's CPU doubled (bench/profile.ts with NODE_FLAGS=--trace-gc, the plugin chain of the
 * benchmark: 17.7 µs of GC per request with pretenuring, 8.7 without). Nothing in the proxy
 * allocates long-lived objects per request, so pretenuring has nothing to win here.
 */
export function tuneHeapForProxying(): void {
  if (tuned) return
  tuned = true
  setFlagsFromString('--no-allocation-site-pretenuring')
}

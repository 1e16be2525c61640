import { waitFor } from '@fleetgate/testkit'
import type { Store, StoreEvent, WatchOptions } from '../src/index.ts'

/** A way to reach the store's backend behind the store's back (etcd: etcdctl on a side port). */
export interface SideChannel {
  /** Puts `key` (relative to the store's prefix) and returns the revision of the write. */
  put(key: string, value: string): Promise<number>
  /** Compacts history up to `revision`. */
  compact(revision: number): Promise<void>
}

/** One store under test, on a keyspace no other test uses. */
export interface OpenedStore {
  store: Store
  /** Cuts the store off from its backend while `fn` runs; absent when there is no connection to lose. */
  whileCutOff?: (fn: (side: SideChannel) => Promise<void>) => Promise<void>
  /** Restarts the backend server (same address and data); absent when there is none. */
  restartBackend?: () => Promise<void>
  /** Writes through another client while the store stays connected. */
  side?: SideChannel
  /** Makes every lease of this store be lost: its keep-alives stop reaching the backend for longer than `ttl`. */
  loseLeases(ttlSeconds: number): Promise<void>
  close(): Promise<void>
}

/** How the contract suite opens stores of one implementation. */
export interface StoreFixture {
  open(): Promise<OpenedStore>
  /** True when the store talks to a server, so `whileCutOff`, `restartBackend` and `side` exist. */
  hasServer: boolean
  /** The shortest lease TTL the backend honours, in seconds. */
  shortTtl: number
}

/** Everything a watch delivered, for assertions. */
export interface Collected {
  events: StoreEvent[]
  resyncs: number
  close(): Promise<void>
  /** Waits until at least `n` events arrived. */
  waitForEvents(n: number, timeoutMs?: number): Promise<void>
}

/** Starts a watch that records what it receives. */
export function collect(store: Store, key: string, opts: WatchOptions = {}): Collected {
  const out: Collected = {
    events: [],
    resyncs: 0,
    close: () => watch.close(),
    waitForEvents: (n, timeoutMs = 10_000) =>
      waitFor(`${n} events (have ${out.events.length})`, () => out.events.length >= n, timeoutMs).then(() => {}),
  }
  const watch = store.watch(key, opts, {
    onEvents: (events) => void out.events.push(...events),
    onResync: () => void out.resyncs++,
  })
  return out
}

/**
 * A watch from the store's current revision on: every change after this resolves is delivered.
 * (A watch with no `fromRevision` starts when the server has it, a moment after watch() returns:
 * a write made in that moment may come before it. Tests that write at once start from a read.)
 */
export async function collectFromNow(store: Store, key: string, opts: { prefix?: boolean } = {}): Promise<Collected> {
  const { revision } = await store.getPrefix(key)
  return collect(store, key, { ...opts, fromRevision: revision + 1 })
}

/** The events as `type key=value@revision` lines, easy to compare. */
export function describeEvents(events: StoreEvent[]): string[] {
  return events.map((e) => `${e.type} ${e.key}=${e.value.toString()}@${e.modRevision}`)
}

/** Runs `fn` with a freshly opened store and always closes it. */
export async function withStore(fixture: StoreFixture, fn: (opened: OpenedStore) => Promise<void>): Promise<void> {
  const opened = await fixture.open()
  try {
    await fn(opened)
  } finally {
    await opened.close()
  }
}

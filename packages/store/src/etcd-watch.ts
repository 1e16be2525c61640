import { setTimeout as sleep } from 'node:timers/promises'
import type { IEvent, IWatchResponse, Namespace, Watcher } from 'etcd3'
import type { StoreEvent, StoreWatch, WatchHandler, WatchOptions } from './store.ts'
import { WatchQueue } from './watch-queue.ts'

const FIRST_RETRY_MS = 100
const MAX_RETRY_MS = 3000
const CLOSE_WAIT_MS = 2000

/**
 * Starts a watch on etcd3 that fixes its resume bookkeeping (research/etcd-control-plane.md 4.2):
 * - the resume point is the last event's mod_revision + 1, never a response header (etcd stamps `created`
 *   and catch-up batches with the current revision, so headers would skip undelivered history);
 * - after a disconnect the etcd3 watcher is dropped and a new one created with that explicit startRevision;
 * - any watcher error or cancel (compaction reports as one), or a store whose revision went backwards,
 *   becomes `onResync`, after which watching continues from the revision read just before it.
 * `currentRevision` reads the store's revision (used only to restart after a resync).
 */
export function watchEtcd(
  ns: Namespace,
  key: string,
  opts: WatchOptions,
  handler: WatchHandler,
  currentRevision: () => Promise<number>,
): StoreWatch {
  const watch = new EtcdWatch(ns, key, opts, handler, currentRevision)
  watch.start()
  return watch
}

class EtcdWatch implements StoreWatch {
  readonly #ns: Namespace
  readonly #key: string
  readonly #prefix: boolean
  readonly #queue: WatchQueue
  readonly #currentRevision: () => Promise<number>
  /** Next revision to deliver; undefined until the first watch is created with no start revision. */
  #resume: number | undefined
  #watcher: Watcher | undefined
  #timer: NodeJS.Timeout | undefined
  #delay = FIRST_RETRY_MS

  constructor(ns: Namespace, key: string, opts: WatchOptions, handler: WatchHandler, currentRevision: () => Promise<number>) {
    this.#ns = ns
    this.#key = key
    this.#prefix = opts.prefix === true
    this.#queue = new WatchQueue(handler)
    this.#currentRevision = currentRevision
    this.#resume = opts.fromRevision
  }

  start(): void {
    if (this.#queue.closed) return
    const builder = this.#prefix ? this.#ns.watch().prefix(this.#key) : this.#ns.watch().key(this.#key)
    if (this.#resume !== undefined) builder.startRevision(String(this.#resume))
    const watcher = builder.watcher()
    this.#watcher = watcher
    const mine = () => watcher === this.#watcher && !this.#queue.closed
    watcher.on('connected', (res: IWatchResponse) => mine() && this.#onConnected(res))
    watcher.on('data', (res: IWatchResponse) => mine() && this.#onData(res))
    // After 'error' etcd3 has already dropped the watcher; cancelling it again would send etcd a cancel for
    // an id etcd3 no longer knows, and its reply would throw inside etcd3's stream handler.
    watcher.on('disconnected', () => mine() && this.#restart(() => this.start(), true))
    watcher.on('error', () => mine() && this.#restart(() => void this.#resync(), false))
  }

  async close(): Promise<void> {
    this.#queue.close()
    clearTimeout(this.#timer)
    const watcher = this.#watcher
    this.#watcher = undefined
    // etcd3 waits for etcd to confirm the cancel; with etcd unreachable that could take forever.
    if (watcher) await Promise.race([watcher.cancel().catch(() => {}), sleep(CLOSE_WAIT_MS, undefined, { ref: false })])
  }

  #onConnected(res: IWatchResponse): void {
    this.#delay = FIRST_RETRY_MS
    const header = Number(res.header.revision)
    // With no start revision etcd watches from header + 1, so here (and only here) the header is the baseline.
    if (this.#resume === undefined) this.#resume = header + 1
    else if (header < this.#resume - 1) this.#restart(() => void this.#resync(), true)
  }

  #onData(res: IWatchResponse): void {
    // Progress notifications (no events) are ignored: etcd 3.4 can send them ahead of pending events.
    if (res.events.length === 0) return
    const events = res.events.map(toStoreEvent)
    this.#resume = (events.at(-1) as StoreEvent).modRevision + 1
    this.#queue.events(events)
  }

  /** Drops the current etcd3 watcher (it must not re-attach with its own revision) and runs `next` after a backoff. */
  #restart(next: () => void, cancel: boolean): void {
    const watcher = this.#watcher
    this.#watcher = undefined
    if (cancel) void watcher?.cancel().catch(() => {})
    clearTimeout(this.#timer)
    this.#timer = setTimeout(next, this.#delay)
    this.#delay = Math.min(this.#delay * 2, MAX_RETRY_MS)
  }

  async #resync(): Promise<void> {
    let revision: number
    try {
      revision = await this.#currentRevision()
    } catch {
      this.#restart(() => void this.#resync(), false)
      return
    }
    await this.#queue.resync()
    this.#resume = revision + 1
    this.start()
  }
}

function toStoreEvent(ev: IEvent): StoreEvent {
  return {
    type: ev.type === 'Delete' ? 'delete' : 'put',
    key: ev.kv.key.toString(),
    value: ev.type === 'Delete' ? Buffer.alloc(0) : Buffer.from(ev.kv.value),
    modRevision: Number(ev.kv.mod_revision),
  }
}

import type { Config, CurrentPointer } from '@fleetgate/schema'
import { formatConfigErrors, storeKeys } from '@fleetgate/schema/runtime'
import { isStoreError, type Store, type StoreEvent, type StoreWatch } from '@fleetgate/store'
import type { Logger } from 'pino'
import type { Gateway } from '../gateway.ts'
import { parseCurrentPointer, readCurrent, samePointer } from './current-pointer.ts'
import { backoffDelay, jittered } from './retry-timing.ts'
import type { StoreConnection } from './store-connection.ts'
import { decodeVersion } from './version-decode.ts'
import { fetchVersion, VersionContentError } from './version-fetch.ts'

/** A config the gateway serves, with where it came from. */
export interface AppliedVersion {
  gen: number
  sha256: string
  /** The published content (what hashes to sha256), as kept in the cache file. */
  /** The published content as canonical JSON (what the cache file keeps). */
  json: string
  config: Config
  /** The store it was read from (etcd, or standalone's local store), or the cache file at start. */
  source: StoreKind | 'cache'
}

/** The kind of config store a fleet data plane follows. */
export type StoreKind = 'etcd' | 'local'

/** Options of {@link startConfigSync}. */
export interface ConfigSyncOptions {
  store: Store
  /** What `source` the versions read from `store` carry. */
  storeKind: StoreKind
  gateway: Gateway
  connection: StoreConnection
  logger: Logger
  /** Anti-entropy: how often `current` is re-read even when the watch is quiet (±20% jitter). */
  pollIntervalMs: number
  /** What already serves (from the cache file), so the same content is not fetched again. */
  initial?: AppliedVersion
  /** After each successful apply (ACK); awaited before the next apply starts. */
  onApplied(version: AppliedVersion, seconds: number): void | Promise<void>
  /** After a version is rejected for good (NACK). */
  onRejected(pointer: CurrentPointer, error: string): void
  /** `current` went back to the version serving after a rejection: the NACK no longer stands. */
  onRecovered(version: AppliedVersion): void
}

/** Keeps the gateway on the version `current` names. */
export interface ConfigSync {
  /** The last problem with the published config; null after a successful apply. */
  readonly lastError: string | null
  /** Re-reads `current` now; `retryRejected` also retries a generation rejected before (SIGHUP). */
  refresh(opts?: { retryRejected?: boolean }): Promise<void>
  /** Stops the watch and the poll; waits for an apply in progress. */
  stop(): Promise<void>
}

const FIRST_RETRY_MS = 1000
const MAX_APPLY_RETRY_MS = 30_000

/**
 * Starts the sync state machine (research/etcd-control-plane.md 5.4): LIST `current`, APPLY it, WATCH
 * `current` from the read's revision + 1, re-read on every resync and on a jittered poll. Only the newest
 * pointer seen is kept, so generations published during an apply are coalesced into one. A version
 * that fails to fetch-verify-validate-compile is rejected (NACK) and not retried; a store that cannot
 * be read is retried with backoff. A missing `current` never changes what serves.
 * Resolves after the first read of `current`, and the apply it leads to, whether or not the store answered.
 */
export async function startConfigSync(o: ConfigSyncOptions): Promise<ConfigSync> {
  const sync = new FleetConfigSync(o)
  await sync.refresh()
  await sync.idle()
  return sync
}

/** The newest pointer seen and the revision to pin its blob read to. */
interface Target {
  pointer: CurrentPointer
  revision: number
}

class FleetConfigSync implements ConfigSync {
  readonly #o: ConfigSyncOptions
  #applied: AppliedVersion | undefined
  #rejected: CurrentPointer | undefined
  #desired: Target | undefined
  #lastError: string | null = null
  /** The revision of the newest observation; an older read that arrives late is ignored. */
  #seenRevision = 0
  #resyncPending = true
  #watch: StoreWatch | undefined
  #reads: Promise<void> = Promise.resolve()
  #pollTimer: NodeJS.Timeout | undefined
  #pollFailures = 0
  #retryTimer: NodeJS.Timeout | undefined
  #applyFailures = 0
  #wanted = false
  #draining: Promise<void> | undefined
  #stopped = false
  #loggedValue: string | undefined

  constructor(o: ConfigSyncOptions) {
    this.#o = o
    this.#applied = o.initial
  }

  get lastError(): string | null {
    return this.#lastError
  }

  refresh(opts: { retryRejected?: boolean } = {}): Promise<void> {
    if (opts.retryRejected) this.#rejected = undefined
    return this.#read(true)
  }

  /** Resolves when no apply is running. */
  async idle(): Promise<void> {
    while (this.#draining) await this.#draining
  }

  async stop(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#pollTimer)
    clearTimeout(this.#retryTimer)
    await this.#watch?.close()
    await this.idle()
  }

  /** Reads are serialized so a resync's read always starts after the event that asked for it. */
  #read(resync: boolean): Promise<void> {
    this.#resyncPending ||= resync
    const run = this.#reads.then(() =>
      this.#readOnce().catch((err: unknown) => {
        // A bug here must not stop every later read (the chain) nor the poll.
        this.#o.logger.error({ err }, 'reading current failed unexpectedly')
        this.#schedulePoll(jittered(this.#o.pollIntervalMs))
      }),
    )
    this.#reads = run
    return run
  }

  async #readOnce(): Promise<void> {
    if (this.#stopped) return
    clearTimeout(this.#pollTimer)
    let read: Awaited<ReturnType<typeof readCurrent>>
    try {
      read = await readCurrent(this.#o.store)
    } catch (err) {
      this.#o.connection.failed(err)
      this.#schedulePoll(backoffDelay(this.#pollFailures++, FIRST_RETRY_MS, this.#o.pollIntervalMs))
      return
    }
    this.#o.connection.ok()
    this.#pollFailures = 0
    const force = this.#resyncPending
    this.#resyncPending = false
    this.#observe(read.value, read.revision, force)
    if (this.#watch === undefined && !this.#stopped) this.#startWatch(read.revision)
    this.#schedulePoll(jittered(this.#o.pollIntervalMs))
  }

  #schedulePoll(ms: number): void {
    clearTimeout(this.#pollTimer)
    if (this.#stopped) return
    this.#pollTimer = setTimeout(() => void this.#read(false), ms)
  }

  #startWatch(revision: number): void {
    const { logger } = this.#o
    this.#watch = this.#o.store.watch(
      storeKeys.current,
      { fromRevision: revision + 1 },
      {
        onEvents: (events: StoreEvent[]) => {
          this.#o.connection.ok()
          for (const ev of events) {
            if (ev.key === storeKeys.current) this.#observe(ev.type === 'put' ? ev.value : undefined, ev.modRevision, false)
          }
        },
        onResync: async () => {
          logger.info('watch on current lost continuity: re-reading current')
          await this.#read(true)
        },
        onError: (err) => logger.error({ err }, 'config watch handler failed'),
      },
    )
  }

  /** Takes one observation of `current` (undefined: missing) at `revision`; `force` after a resync. */
  #observe(value: Buffer | undefined, revision: number, force: boolean): void {
    if (!force && revision < this.#seenRevision) return
    this.#seenRevision = revision
    const text = value?.toString('utf8') ?? ''
    const changed = text !== this.#loggedValue
    this.#loggedValue = text
    if (value === undefined) {
      if (changed) this.#o.logger.warn('no published config (current is missing): keeping the applied config, if any')
      return
    }
    let pointer: CurrentPointer
    try {
      pointer = parseCurrentPointer(value)
    } catch (err) {
      this.#lastError = `invalid current: ${(err as Error).message}`
      if (changed) this.#o.logger.error({ value: text.slice(0, 200) }, this.#lastError)
      return
    }
    this.#desired = { pointer, revision }
    this.#kick()
  }

  #kick(): void {
    this.#wanted = true
    if (this.#draining || this.#stopped) return
    // Start on the next microtask so a batch of watch events coalesces into its newest pointer.
    this.#draining = Promise.resolve()
      .then(() => this.#drain())
      .finally(() => {
        this.#draining = undefined
      })
  }

  async #drain(): Promise<void> {
    while (this.#wanted && !this.#stopped) {
      this.#wanted = false
      const target = this.#desired
      if (target === undefined) continue
      if (this.#isSettled(target.pointer)) {
        if (samePointer(target.pointer, this.#applied)) this.#recovered()
        continue
      }
      if (await this.#applyOne(target)) this.#scheduleRetry()
    }
  }

  /** Applied from the store already, or rejected for good. */
  #isSettled(pointer: CurrentPointer): boolean {
    return (samePointer(pointer, this.#applied) && this.#applied?.source === this.#o.storeKind) || samePointer(pointer, this.#rejected)
  }

  #scheduleRetry(): void {
    clearTimeout(this.#retryTimer)
    if (this.#stopped) return
    this.#retryTimer = setTimeout(() => this.#kick(), backoffDelay(this.#applyFailures++, FIRST_RETRY_MS, MAX_APPLY_RETRY_MS))
  }

  /** Applies one target; resolves true when it should be retried (the store could not be read). */
  async #applyOne({ pointer, revision }: Target): Promise<boolean> {
    const started = performance.now()
    if (this.#applied !== undefined && pointer.gen < this.#applied.gen) {
      // The store is the source of truth even when it went back (restored from a backup); say so loudly.
      this.#o.logger.warn(
        { gen: pointer.gen, serving: this.#applied.gen },
        'current names an older generation than the one serving; applying it',
      )
    }
    let version: AppliedVersion
    try {
      version = await this.#build(pointer, revision)
      await this.#o.gateway.apply(version.config, { generation: pointer.gen, sha256: pointer.sha256, source: this.#o.storeKind })
    } catch (err) {
      if (isStoreError(err)) {
        if (isStoreError(err, 'UNAVAILABLE')) this.#o.connection.failed(err)
        this.#lastError = `generation ${pointer.gen}: cannot read it from the config store (${err.message}); retrying`
        // Logged when the retries start, not on each one.
        if (this.#applyFailures === 0) this.#o.logger.warn({ gen: pointer.gen, code: err.code }, this.#lastError)
        return true
      }
      this.#reject(pointer, err)
      return false
    }
    this.#applied = version
    this.#applyFailures = 0
    this.#lastError = null
    try {
      await this.#o.onApplied(version, (performance.now() - started) / 1000)
    } catch (err) {
      this.#o.logger.error({ err, gen: pointer.gen }, 'recording an applied config failed')
    }
    return false
  }

  /** Fetches, verifies and validates; content already serving (same sha256) is reused, not fetched. */
  async #build(pointer: CurrentPointer, revision: number): Promise<AppliedVersion> {
    const applied = this.#applied
    if (applied?.sha256 === pointer.sha256) return { ...applied, gen: pointer.gen, source: this.#o.storeKind }
    const chunks = await fetchVersion(this.#o.store, pointer, revision)
    this.#o.connection.ok()
    const decoded = await decodeVersion(chunks, pointer.sha256)
    if (!decoded.ok && decoded.stage === 'content') throw new VersionContentError(`generation ${pointer.gen}: ${decoded.message}`)
    if (!decoded.ok) throw new VersionContentError(`generation ${pointer.gen} is invalid:\n${formatConfigErrors(decoded.errors)}`)
    return { gen: pointer.gen, sha256: pointer.sha256, json: decoded.json, config: decoded.config, source: this.#o.storeKind }
  }

  /** `current` names the version serving again (a bad publish undone): clears a rejection that stood. */
  #recovered(): void {
    const applied = this.#applied
    if (this.#rejected === undefined || applied === undefined) return
    this.#rejected = undefined
    this.#lastError = null
    this.#o.gateway.clearRejection()
    this.#o.logger.info({ gen: applied.gen }, 'current names the serving generation again; the rejection no longer stands')
    this.#o.onRecovered(applied)
  }

  #reject(pointer: CurrentPointer, err: unknown): void {
    const message =
      err instanceof VersionContentError ? err.message : `generation ${pointer.gen} failed to apply: ${(err as Error).message}`
    this.#rejected = pointer
    this.#applyFailures = 0
    this.#lastError = message
    this.#o.gateway.reject(message)
    this.#o.logger.error({ gen: pointer.gen, sha256: pointer.sha256 }, `config rejected; the previous config keeps serving: ${message}`)
    this.#o.onRejected(pointer, message)
  }
}

import {
  type ConfigError,
  decodeResource,
  type Parsed,
  parseCurrentPointer,
  parseHoldGeneration,
  parsePublishRecord,
  type ResourceKind,
  type SingletonSection,
  storeKeys,
  validateConfig,
} from '@fleetgate/schema'
import type { Store } from '@fleetgate/store'
import type { Logger } from 'pino'
import { type AutoPublisher, startAutoPublish } from './auto-publish.ts'
import { readDesired } from './desired-tree.ts'
import { removeResource, replaceTree, resourceKey, writeResource } from './desired-writes.ts'
import { diffConfigs } from './diff.ts'
import { readFleet } from './fleet-view.ts'
import { getVersion, listVersions } from './history.ts'
import { type PublishOutcome, type PublishRequest, publishDesired } from './publisher.ts'
import { createPublisherLock, type PublisherLock } from './publisher-lock.ts'
import { createRetention, type Retention } from './retention.ts'
import { restoreDesired, rollbackTo } from './rollback.ts'
import {
  type ConfigService,
  type DesiredResource,
  type PublishResult,
  type PublishStatus,
  ServiceError,
  type WriteOptions,
} from './service-types.ts'
import { asServiceError, withStoreFailures } from './store-failures.ts'

/** Tuning of {@link createConfigService}; every field has a default. */
export interface ConfigServiceOptions {
  /** Newest versions kept in history (default 50); the current one and its rollback source are always kept. */
  keepVersions?: number
  /** Least age of an unreferenced blob before it is deleted, and least time between full blob sweeps (default 10 min). */
  blobGraceMs?: number
  /** Quiet time after an etcdctl edit of desired/ before it is published (default 300 ms). */
  debounceMs?: number
  /** Longest an edit waits while edits keep coming (default 5 s). */
  maxDebounceMs?: number
  /** The data planes' heartbeat; nodes silent for 3 of them are stale (default 30 s). */
  heartbeatMs?: number
  /** TTL of the publisher lock's lease: how long a crashed control plane blocks the others (default 10 s). */
  lockTtlSeconds?: number
  /** Author recorded for versions published from edits made behind the API (default "etcdctl"). */
  watchAuthor?: string
  /** Where background failures (auto-publish, pruning) and rejected etcdctl edits are reported. */
  logger?: Pick<Logger, 'warn' | 'info'>
  /** The clock (tests). */
  now?: () => Date
  /** Told how each publish of an etcdctl edit ended and how long it took (metrics); a throw there is ignored. */
  onEditPublish?: (result: 'ok' | 'unchanged' | 'held' | 'rejected' | 'error', seconds: number) => void
}

/**
 * The control plane's domain over a {@link Store} (etcd or a local folder): the desired tree,
 * publishing, history, rollback and the fleet view. Every method maps store outages to
 * STORE_UNAVAILABLE. Writes and publishes run one at a time across control planes (publisher lock).
 * Call `start()` to publish etcdctl edits; `close()` stops that (the store stays open).
 */
export function createConfigService(store: Store, options: ConfigServiceOptions = {}): ConfigService {
  return new StoreConfigService(store, options)
}

class StoreConfigService implements ConfigService {
  readonly #store: Store
  readonly #lock: PublisherLock
  readonly #retention: Retention
  readonly #now: () => Date
  readonly #options: ConfigServiceOptions
  #auto: AutoPublisher | undefined
  /** Highest desired/ revision a publish attempt of this process has read. */
  #covered = 0
  /** Why this process's last publish attempt threw (shown by GET /publish until one succeeds). */
  #publishFailure: ConfigError | undefined
  /** The errors of the config file the last import refused (standalone); undefined after a good one. */
  #importErrors: ConfigError[] | undefined
  /** Author and message of an API write whose publish failed: the change's next publish carries them. */
  #pending: { author: string; message: string } | undefined

  constructor(store: Store, options: ConfigServiceOptions) {
    this.#store = store
    this.#options = options
    this.#now = options.now ?? (() => new Date())
    this.#lock = createPublisherLock(store, options.lockTtlSeconds ?? 10)
    this.#retention = createRetention({
      keepVersions: options.keepVersions ?? 50,
      blobGraceMs: options.blobGraceMs ?? 10 * 60_000,
      now: () => this.#now().getTime(),
    })
  }

  getDesired(): Promise<DesiredResource> {
    return withStoreFailures(async () => {
      const tree = await readDesired(this.#store)
      return { value: asPlainJson(tree.config), etag: tree.etag, unreadable: tree.unreadable }
    })
  }

  putDesired(config: unknown, options: WriteOptions): Promise<PublishResult> {
    return this.#write(options, (signal) => replaceTree(this.#store, config, options.ifMatch, signal))
  }

  getResource(kind: ResourceKind | SingletonSection, name: string | undefined): Promise<DesiredResource> {
    return withStoreFailures(async () => {
      const key = resourceKey(kind, name)
      const kv = await this.#store.get(key)
      if (!kv) throw new ServiceError('NOT_FOUND', `${name === undefined ? kind : `${kind}.${name}`} not found`)
      try {
        return { value: asPlainJson(decodeResource(kv.value.toString('utf8'), kind, name)), etag: String(kv.modRevision) }
      } catch (err) {
        const error: ConfigError = { path: key, message: `cannot parse ${key}: ${(err as Error).message}` }
        throw new ServiceError('INVALID', `${key} holds an undecodable value`, [error], { cause: err })
      }
    })
  }

  putResource(
    kind: ResourceKind | SingletonSection,
    name: string | undefined,
    value: unknown,
    options: WriteOptions,
  ): Promise<PublishResult> {
    return this.#write(options, (signal) => writeResource(this.#store, kind, name, value, options.ifMatch, signal))
  }

  deleteResource(kind: ResourceKind, name: string, options: WriteOptions): Promise<PublishResult> {
    return this.#write(options, (signal) => removeResource(this.#store, kind, name, options.ifMatch, signal))
  }

  validate(config: unknown): { ok: true } | { ok: false; errors: ConfigError[] } {
    const result = validateConfig(config)
    return result.ok ? { ok: true } : { ok: false, errors: result.errors }
  }

  publishStatus(): Promise<PublishStatus> {
    return withStoreFailures(async () => {
      const [record, hold, current] = await Promise.all([
        this.#store.get(storeKeys.publishStatus),
        this.#store.get(storeKeys.hold),
        this.#store.get(storeKeys.current),
      ])
      const problems: ConfigError[] = []
      const readable = <T>(parsed: Parsed<T> | undefined, consequence: string): T | undefined => {
        if (parsed?.ok === false) problems.push({ path: parsed.problem.path, message: `${parsed.problem.message} (${consequence})` })
        return parsed?.ok ? parsed.value : undefined
      }
      const last = readable(record && parsePublishRecord(record.value), 'the next publish attempt rewrites it')
      const pointer = readable(current && parseCurrentPointer(current.value), 'the next publish rewrites it')
      readable(hold && parseHoldGeneration(hold.value), 'publishing stays held until a restore or release')
      if (this.#publishFailure) problems.push(this.#publishFailure)
      if (this.#importErrors) problems.push(...this.#importErrors)
      return {
        state: last?.state ?? 'ok',
        errors: last?.errors ?? [],
        generation: pointer?.gen ?? null,
        held: hold !== undefined,
        at: last?.at ?? null,
        problems,
      }
    })
  }

  reportImport(errors: ConfigError[] | undefined): void {
    this.#importErrors = errors
  }

  listVersions() {
    return withStoreFailures(() => listVersions(this.#store))
  }

  getVersion(generation: number) {
    return withStoreFailures(() => getVersion(this.#store, generation))
  }

  diff(from: number, to: number) {
    return withStoreFailures(async () => {
      const [a, b] = await Promise.all([getVersion(this.#store, from), getVersion(this.#store, to)])
      return diffConfigs(a.config, b.config, { from, to })
    })
  }

  rollback(generation: number, author: string): Promise<PublishResult> {
    return this.#exclusive(async () => {
      const outcome = await rollbackTo(this.#store, generation, author, this.#now)
      await this.#prune(outcome)
      return { ...toResult(outcome), held: true }
    })
  }

  restore(generation: number, author: string): Promise<PublishResult> {
    return this.#exclusive(async (signal) => {
      await restoreDesired(this.#store, generation, signal)
      return await this.#publish({
        author,
        message: `restore generation ${generation}`,
        respectHold: false,
        releaseHold: true,
        allowEmpty: true,
      })
    })
  }

  release(author: string): Promise<PublishResult> {
    const request: PublishRequest = {
      author,
      message: 'release the rollback hold',
      respectHold: false,
      releaseHold: true,
      allowEmpty: true,
    }
    return this.#exclusive(() => this.#publish(request))
  }

  fleet() {
    return withStoreFailures(() =>
      readFleet(this.#store, { heartbeatMs: this.#options.heartbeatMs ?? 30_000, now: () => this.#now().getTime() }),
    )
  }

  async start(): Promise<void> {
    this.#auto ??= startAutoPublish(this.#store, {
      debounceMs: this.#options.debounceMs ?? 300,
      maxDelayMs: this.#options.maxDebounceMs ?? 5000,
      coveredRevision: () => this.#covered,
      publish: () => this.#publishEdits(),
      onError: (err) => this.#options.logger?.warn({ err }, 'auto-publish of desired/ failed'),
    })
  }

  async close(): Promise<void> {
    await this.#auto?.close()
    this.#auto = undefined
    await this.#lock.idle()
  }

  /**
   * A write of desired/ under the lock, then the publish of the result (held: written, not published).
   * When the write landed but its publish failed, the error says so, and the author and message are
   * kept for the auto-publish that will carry the change.
   */
  #write(options: WriteOptions, write: (signal: AbortSignal) => Promise<void>): Promise<PublishResult> {
    return this.#exclusive(async (signal) => {
      await write(signal)
      const request: PublishRequest = {
        author: options.author,
        message: options.message ?? '',
        respectHold: true,
        releaseHold: false,
        allowEmpty: true,
      }
      try {
        return await this.#publish(request)
      } catch (err) {
        if (!(err instanceof PublishAttemptError)) throw err
        this.#pending = { author: request.author, message: request.message }
        throw unpublishedWrite(err.cause)
      }
    })
  }

  async #publish(request: PublishRequest): Promise<PublishResult> {
    const outcome = await this.#attemptPublish(request)
    await this.#prune(outcome)
    return toResult(outcome)
  }

  /** publishDesired, remembering how it ended for GET /publish; a throw comes wrapped in PublishAttemptError. */
  async #attemptPublish(request: PublishRequest): Promise<PublishOutcome> {
    let outcome: PublishOutcome
    try {
      outcome = await publishDesired(this.#store, request, this.#now)
    } catch (err) {
      const cause = asServiceError(err)
      this.#publishFailure = { path: 'publish', message: `the last publish attempt failed: ${(cause as Error).message}` }
      throw new PublishAttemptError(cause)
    }
    this.#publishFailure = undefined
    this.#cover(outcome)
    if (outcome.state === 'published' || outcome.state === 'unchanged') this.#pending = undefined
    return outcome
  }

  /** The watch's publish: like an API publish, but an empty tree is not published and a rejection is only recorded. */
  #publishEdits(): Promise<void> {
    const started = performance.now()
    const report = (result: 'ok' | 'unchanged' | 'held' | 'rejected' | 'error') => {
      try {
        this.#options.onEditPublish?.(result, (performance.now() - started) / 1000)
      } catch {}
    }
    const publishing = this.#exclusive(async () => {
      // An API write whose own publish failed is published here, under its author and message.
      const author = this.#pending?.author ?? this.#options.watchAuthor ?? 'etcdctl'
      const message = this.#pending?.message ?? 'edit of desired/ outside the admin API'
      const outcome = await this.#attemptPublish({ author, message, respectHold: true, releaseHold: false, allowEmpty: false }).catch(
        (err: unknown) => {
          throw err instanceof PublishAttemptError ? err.cause : err
        },
      )
      await this.#prune(outcome)
      if (outcome.state === 'rejected') this.#options.logger?.warn({ errors: outcome.errors }, 'desired/ is invalid; not published')
      if (outcome.state === 'published') this.#options.logger?.info({ generation: outcome.generation }, 'published an edit of desired/')
      if (outcome.state !== 'idle') report(outcome.state === 'published' ? 'ok' : outcome.state)
    })
    return publishing.catch((err: unknown) => {
      report('error')
      throw err
    })
  }

  #exclusive<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return withStoreFailures(() => this.#lock.run(fn))
  }

  #cover(outcome: PublishOutcome): void {
    if ('desiredRevision' in outcome) this.#covered = Math.max(this.#covered, outcome.desiredRevision)
  }

  /** Prunes history after a new generation; a failure here never fails the publish that succeeded. */
  async #prune(outcome: PublishOutcome): Promise<void> {
    if (outcome.state !== 'published') return
    try {
      const pruned = await this.#retention.prune(this.#store)
      for (const { path, message } of pruned.unreadableDeleted) {
        this.#options.logger?.warn(
          { key: path, problem: message },
          'retention deleted an unreadable version manifest older than the kept history',
        )
      }
    } catch (err) {
      this.#options.logger?.warn({ err }, 'pruning history failed')
    }
  }
}

/** A publish attempt that threw (as opposed to one that ended in an outcome); `cause` is the service's error. */
class PublishAttemptError extends Error {
  constructor(cause: unknown) {
    super('publish attempt failed', { cause })
  }
}

/** The error of a write that reached desired/ but was not published: the cause's code, a message saying so. */
function unpublishedWrite(cause: unknown): ServiceError {
  const message = `desired/ was written but not published: ${(cause as Error).message}; the control plane retries the publish`
  if (cause instanceof ServiceError) return new ServiceError(cause.code, message, cause.errors, { cause })
  return new ServiceError('PUBLISH_FAILED', message, [], { cause })
}

/** The API's view of an outcome; a rejected tree (an etcdctl edit racing an API write) is INVALID. */
function toResult(outcome: PublishOutcome): PublishResult {
  switch (outcome.state) {
    case 'published':
    case 'unchanged':
      return { generation: outcome.generation, sha256: outcome.sha256, published: outcome.state === 'published', held: false }
    case 'held':
      return { generation: outcome.generation, sha256: outcome.sha256, published: false, held: true }
    case 'rejected':
      throw new ServiceError('INVALID', 'desired/ is invalid; nothing was published', outcome.errors)
    case 'idle':
      return { generation: 0, sha256: '', published: false, held: false }
  }
}

/** TOML decoding yields null-prototype tables (and Date objects): hand out plain JSON data. */
function asPlainJson(value: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>
}

import { CacheSchema } from '@fleetgate/schema'
import { parseCidrList, parseDuration, parseSize } from '@fleetgate/schema/runtime'
import { isTrusted } from '../proxy/client-ip.ts'
import { flattenHeaders, isNotModified, matchesEtag, mergeNotModified, storeHeaders } from './cache-headers.ts'
import { freshnessMs, parseCacheControl, type StaleWindows, staleWindows } from './cache-policy.ts'
import { CacheTee } from './cache-tee.ts'
import { getFlatHeader, removeFlatHeader, setFlatHeader } from './flat-headers.ts'
import { MissCoalescer, type PendingFetch } from './miss-coalescer.ts'
import { refuse } from './refusal.ts'
import { type CacheEntry, isFresh, ResponseCache } from './response-cache.ts'
import { StoredBody } from './stored-body.ts'
import { definePlugin, type HookResult, type PluginReply, type RequestContext, type ResponseHead } from './types.ts'

const SWEEP_INTERVAL_MS = 30_000
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
/** Statuses never stored, whatever their headers say: partial content, and "not modified" (no body). */
const NEVER_STORED = new Set([206, 304])

/** What the cache did for one request; the X-Cache value. */
type CacheStatus = 'HIT' | 'MISS' | 'REVALIDATED' | 'STALE'

/** The cache's state for one GET or HEAD request. */
interface CacheState {
  readonly key: string
  status: CacheStatus
  /** The stored entry, stale: revalidated upstream when it has validators, served on upstream errors. */
  stale: CacheEntry | undefined
  /** Set when this request fetches for concurrent misses of its key. */
  leading: PendingFetch | undefined
  /** If-None-Match / If-Modified-Since from the stale entry were sent upstream. */
  revalidating: boolean
}

/**
 * An in-memory shared HTTP cache (RFC 9111) of GET responses: keyed by host, path, query and
 * the configured Vary headers; freshness from s-maxage, max-age, Expires or default_ttl;
 * bounded by max_size with LRU eviction. A miss streams to the client while a copy is kept
 * (dropped past max_entry_size), and concurrent misses for a key wait for that one fetch. A
 * stale entry with an ETag or Last-Modified is revalidated upstream (a 304 refreshes it), and
 * may be served within its stale-while-revalidate / stale-if-error windows. HEAD is answered
 * from GET entries. X-Cache says HIT, MISS, REVALIDATED or STALE; PURGE of a URL (or
 * "prefix*") is allowed from purge_allow in the process that receives it; in fleet mode the admin
 * API's POST /api/v1/cache/purge reaches every node through the `purge` capability; an unsafe request that succeeds invalidates its URL.
 * Entries live in the instance, so they survive reloads that keep its config.
 */
export default definePlugin({
  name: 'cache',
  priority: 960,
  schema: CacheSchema,
  create(config, env) {
    let purgers: ReturnType<typeof parseCidrList>
    try {
      purgers = parseCidrList(config.purge_allow)
    } catch (err) {
      throw new Error(`purge_allow: ${(err as Error).message}`, { cause: err })
    }
    const maxEntry = parseSize(config.max_entry_size)
    const limits = {
      defaultTtlMs: parseDuration(config.default_ttl),
      maxTtlMs: parseDuration(config.max_ttl),
      vary: new Set(config.vary.map((v) => v.toLowerCase())),
    }
    const staleDefaults: StaleWindows = {
      whileRevalidateMs: parseDuration(config.stale_while_revalidate),
      ifErrorMs: parseDuration(config.stale_if_error),
    }
    const coalesceMs = parseDuration(config.coalesce_timeout)
    const varyNames = [...limits.vary]
    const store = new ResponseCache(parseSize(config.max_size))
    const coalescer = new MissCoalescer()
    if (!env.signal.aborted) {
      const timer = setInterval(() => store.sweep(Date.now()), SWEEP_INTERVAL_MS)
      timer.unref()
      env.signal.addEventListener('abort', () => clearInterval(timer), { once: true })
    }
    const states = new WeakMap<RequestContext, CacheState>()
    const forbidden = refuse('FORBIDDEN', 'PURGE is not allowed from this address')

    const urlOf = (ctx: RequestContext) => (ctx.query === '' ? `${ctx.host}${ctx.path}` : `${ctx.host}${ctx.path}?${ctx.query}`)
    const keyOf = (ctx: RequestContext, url: string) => {
      let key = url
      for (const name of varyNames) key += `\n${ctx.header(name) ?? ''}`
      return key
    }
    const ageOf = (entry: CacheEntry, now: number) => String(entry.initialAge + Math.floor((now - entry.storedAt) / 1000))
    const clientNotModified = (ctx: RequestContext, entry: CacheEntry) =>
      isNotModified(ctx.header('if-none-match'), ctx.header('if-modified-since'), entry)

    const purge = (ctx: RequestContext): PluginReply => {
      if (!isTrusted(purgers, ctx.clientIp)) return forbidden
      const url = urlOf(ctx)
      const purged = url.endsWith('*') ? store.deletePrefix(url.slice(0, -1)) : store.deleteUrl(url)
      return {
        status: 200,
        headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
        body: `${JSON.stringify({ purged })}\n`,
      }
    }

    /** Answers from `entry` (fresh, or stale within a window): a 304 when the client's conditional matches. */
    const answer = (ctx: RequestContext, state: CacheState, entry: CacheEntry, status: CacheStatus): PluginReply => {
      state.status = status
      const headers = { ...entry.headers, age: [ageOf(entry, Date.now())] }
      if (clientNotModified(ctx, entry)) return { status: 304, headers }
      return { status: entry.status, headers, body: entry.body }
    }

    /** Waits for the request already fetching `state.key`, then answers from what it stored, or goes upstream. */
    const follow = async (ctx: RequestContext, state: CacheState): Promise<HookResult> => {
      await coalescer.wait(state.key, coalesceMs)
      const now = Date.now()
      const entry = store.get(state.key, now)
      if (entry !== undefined && isFresh(entry, now)) return answer(ctx, state, entry, 'HIT')
      state.stale = entry
      return undefined
    }

    /** Builds the entry a response becomes (its body still to come); undefined when it must not be stored. */
    const entryFor = (ctx: RequestContext, head: ResponseHead, now: number): Omit<CacheEntry, 'body' | 'size'> | undefined => {
      if (NEVER_STORED.has(head.status)) return undefined
      const ttl = freshnessMs(head, ctx.header('authorization') !== undefined, limits, now)
      if (ttl <= 0) return undefined
      const { headers } = storeHeaders(head.headers)
      const etag = getFlatHeader(head.headers, 'etag')
      const lastModified = getFlatHeader(head.headers, 'last-modified')
      const windows = staleWindows(head, staleDefaults)
      const expiresAt = now + ttl
      // A stale entry with a validator is worth keeping: a 304 costs the upstream no body.
      const keep = Math.max(
        windows.whileRevalidateMs,
        windows.ifErrorMs,
        etag !== undefined || lastModified !== undefined ? limits.maxTtlMs : 0,
      )
      return {
        url: urlOf(ctx),
        status: head.status,
        headers,
        etag,
        lastModified,
        storedAt: now,
        expiresAt,
        staleWhileRevalidateMs: windows.whileRevalidateMs,
        staleIfErrorMs: windows.ifErrorMs,
        keepUntil: expiresAt + keep,
        initialAge: Number(getFlatHeader(head.headers, 'age') ?? 0) || 0,
      }
    }

    /** Bytes an entry counts against max_size: body, headers, key, and a fixed overhead. */
    const sizeOf = (key: string, entry: Omit<CacheEntry, 'size'>) => {
      let bytes = entry.body.length + key.length * 2 + 256
      for (const [name, values] of Object.entries(entry.headers)) for (const v of values) bytes += name.length + v.length + 4
      return bytes
    }

    /** A miss's response: a tee that stores the body once it has all streamed, or undefined. */
    const storeLater = (ctx: RequestContext, state: CacheState, head: ResponseHead) => {
      const meta = entryFor(ctx, head, Date.now())
      const length = getFlatHeader(head.headers, 'content-length')
      if (meta === undefined || (length !== undefined && Number(length) > maxEntry)) {
        // A newer response that may not be stored replaces the stale one all the same (not an error, not a 304).
        if (state.stale !== undefined && head.status < 500 && head.status !== 304) store.delete(state.key)
        return undefined
      }
      return new CacheTee(maxEntry, (body) => {
        if (length === undefined || Number(length) === body.length) {
          const entry = { ...meta, body }
          store.set(state.key, { ...entry, size: sizeOf(state.key, entry) })
        }
        state.leading?.settle()
      })
    }

    /** Rewrites `head` into the stored response of `entry` (status, headers, length), then its Age. */
    const replaceHead = (head: ResponseHead, entry: CacheEntry, now: number) => {
      const flat = flattenHeaders(entry.headers)
      head.status = entry.status
      head.headers.length = 0
      head.headers.push(...flat)
      removeFlatHeader(head.headers, 'transfer-encoding')
      setFlatHeader(head.headers, 'content-length', String(entry.body.length))
      setFlatHeader(head.headers, 'age', ageOf(entry, now))
    }

    /** A 304 to our revalidation: refresh the entry (RFC 9111 4.3.4) and answer it. */
    const revalidated = (ctx: RequestContext, state: CacheState, head: ResponseHead, entry: CacheEntry) => {
      const now = Date.now()
      const etag = getFlatHeader(head.headers, 'etag')
      let current = entry
      if (etag !== undefined && entry.etag !== undefined && !matchesEtag(etag, entry.etag)) {
        // Not the stored response the upstream validated: drop it, serve it this once as stale.
        store.delete(state.key)
        state.status = 'STALE'
      } else {
        const flat = flattenHeaders(mergeNotModified(entry.headers, head.headers).headers)
        const age = getFlatHeader(head.headers, 'age')
        if (age !== undefined) flat.push('age', age)
        const meta = entryFor(ctx, { status: entry.status, headers: flat }, now)
        if (meta === undefined) store.delete(state.key)
        else {
          const refreshed = { ...meta, body: entry.body }
          current = { ...refreshed, size: sizeOf(state.key, refreshed) }
          store.set(state.key, current)
        }
        state.status = 'REVALIDATED'
      }
      state.leading?.settle()
      return respondWith(ctx, head, current, now)
    }

    /** Turns `head` into the answer from `entry`: a 304 for a matching client conditional, else the stored body. */
    const respondWith = (ctx: RequestContext, head: ResponseHead, entry: CacheEntry, now: number) => {
      replaceHead(head, entry, now)
      if (!clientNotModified(ctx, entry)) return new StoredBody(entry.body)
      head.status = 304
      removeFlatHeader(head.headers, 'content-length')
      return new StoredBody(Buffer.alloc(0))
    }

    return {
      capabilities: {
        purge: (target) => ('url' in target ? store.deleteUrl(target.url) : store.deletePrefix(target.prefix)),
      },
      request(ctx) {
        const method = ctx.method
        if (method === 'PURGE') return purge(ctx)
        if (method !== 'GET' && method !== 'HEAD') return undefined
        if (ctx.header('range') !== undefined) return undefined
        const cc = parseCacheControl(ctx.header('cache-control'))
        if (cc.has('no-store')) return undefined
        const state: CacheState = { key: keyOf(ctx, urlOf(ctx)), status: 'MISS', stale: undefined, leading: undefined, revalidating: false }
        states.set(ctx, state)
        if (cc.has('no-cache') || cc.get('max-age') === '0' || ctx.header('pragma') === 'no-cache') return undefined
        const now = Date.now()
        const entry = store.get(state.key, now)
        if (entry !== undefined && isFresh(entry, now)) return answer(ctx, state, entry, 'HIT')
        state.stale = entry
        if (coalescer.isPending(state.key)) {
          if (entry !== undefined && now < entry.expiresAt + entry.staleWhileRevalidateMs) return answer(ctx, state, entry, 'STALE')
          if (coalesceMs > 0) return follow(ctx, state)
          return undefined
        }
        // Only a GET whose answer will be a full response (not a 304 to the client's own validators) leads.
        const canRevalidate = entry !== undefined && (entry.etag !== undefined || entry.lastModified !== undefined)
        const conditional = ctx.header('if-none-match') !== undefined || ctx.header('if-modified-since') !== undefined
        if (method === 'GET' && coalesceMs > 0 && (!conditional || canRevalidate)) state.leading = coalescer.lead(state.key)
        return undefined
      },
      upstream_request(ctx, upstream) {
        const state = states.get(ctx)
        const entry = state?.stale
        if (state === undefined || entry === undefined || ctx.method !== 'GET') return
        if (entry.etag === undefined && entry.lastModified === undefined) return
        // The client's own validators are answered by the cache from the refreshed entry.
        removeFlatHeader(upstream.headers, 'if-none-match')
        removeFlatHeader(upstream.headers, 'if-modified-since')
        if (entry.etag !== undefined) upstream.headers.push('if-none-match', entry.etag)
        if (entry.lastModified !== undefined) upstream.headers.push('if-modified-since', entry.lastModified)
        state.revalidating = true
      },
      response_body(ctx, head) {
        const state = states.get(ctx)
        if (state === undefined || state.status !== 'MISS' || ctx.method !== 'GET') return undefined
        const entry = state.stale
        if (head.status === 304 && state.revalidating && entry !== undefined) return revalidated(ctx, state, head, entry)
        if (head.status >= 500 && entry !== undefined && Date.now() < entry.expiresAt + entry.staleIfErrorMs) {
          state.status = 'STALE'
          state.leading?.settle()
          return respondWith(ctx, head, entry, Date.now())
        }
        const tee = storeLater(ctx, state, head)
        if (tee === undefined) state.leading?.settle()
        return tee
      },
      response(ctx, head) {
        const state = states.get(ctx)
        if (state !== undefined) {
          setFlatHeader(head.headers, 'X-Cache', state.status)
          ctx.vars.cache_status = state.status
        } else if (UNSAFE.has(ctx.method) && head.status < 400) store.deleteUrl(urlOf(ctx))
      },
      log(ctx) {
        // Whatever became of the response (cut, failed, bodyless), waiting requests go on.
        states.get(ctx)?.leading?.settle()
      },
    }
  },
})

import { CacheSchema } from '@fleetgate/schema'
import { parseCidrList, parseDuration, parseSize } from '@fleetgate/schema/runtime'
import { isTrusted } from '../proxy/client-ip.ts'
import { freshnessMs, parseCacheControl } from './cache-policy.ts'
import { CacheTee } from './cache-tee.ts'
import { getFlatHeader, setFlatHeader } from './flat-headers.ts'
import { refuse } from './refusal.ts'
import { type CacheEntry, ResponseCache } from './response-cache.ts'
import { definePlugin, type PluginReply, type RequestContext, type ResponseHead } from './types.ts'

const SWEEP_INTERVAL_MS = 30_000
/** Headers never stored: recomputed or per response. */
const NOT_STORED = new Set(['age', 'x-cache'])
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * An in-memory shared HTTP cache (RFC 9111) of GET responses: keyed by host, path, query and
 * the configured Vary headers; freshness from s-maxage, max-age, Expires or default_ttl;
 * bounded by max_size with LRU eviction. A miss streams to the client while a copy is kept
 * (dropped past max_entry_size). HEAD is answered from GET entries. X-Cache says HIT or MISS;
 * PURGE of a URL (or "prefix*") is allowed from purge_allow; an unsafe request that succeeds
 * invalidates its URL. Entries live in the instance, so they survive reloads that keep its config.
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
    const varyNames = [...limits.vary]
    const store = new ResponseCache(parseSize(config.max_size))
    if (!env.signal.aborted) {
      const timer = setInterval(() => store.sweep(Date.now()), SWEEP_INTERVAL_MS)
      timer.unref()
      env.signal.addEventListener('abort', () => clearInterval(timer), { once: true })
    }
    // Per request: the key of a lookup that missed (the response may be stored), or "hit".
    const stateVar = `cache.${env.name}`
    const forbidden = refuse('FORBIDDEN', 'PURGE is not allowed from this address')

    const urlOf = (ctx: RequestContext) => (ctx.query === '' ? `${ctx.host}${ctx.path}` : `${ctx.host}${ctx.path}?${ctx.query}`)
    const keyOf = (ctx: RequestContext, url: string) => {
      let key = url
      for (const name of varyNames) key += `\n${ctx.header(name) ?? ''}`
      return key
    }

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

    const hit = (ctx: RequestContext, entry: CacheEntry): PluginReply => {
      const age = String(entry.initialAge + Math.floor((Date.now() - entry.storedAt) / 1000))
      const headers = { ...entry.headers, age: [age], 'x-cache': ['HIT'] }
      const inm = ctx.header('if-none-match')
      if (entry.etag !== undefined && inm?.split(',').some((t) => t.trim() === entry.etag || t.trim() === '*')) {
        return { status: 304, headers }
      }
      return { status: entry.status, headers, body: entry.body }
    }

    const storeLater = (ctx: RequestContext, key: string, head: ResponseHead) => {
      const now = Date.now()
      const ttl = freshnessMs(head, ctx.header('authorization') !== undefined, limits, now)
      if (ttl <= 0) return undefined
      const length = getFlatHeader(head.headers, 'content-length')
      if (length !== undefined && Number(length) > maxEntry) return undefined
      const headers: Record<string, string[]> = {}
      let headerBytes = 0
      for (let i = 0; i < head.headers.length; i += 2) {
        const name = head.headers[i] as string
        if (NOT_STORED.has(name.toLowerCase())) continue
        const value = head.headers[i + 1] as string
        const values = headers[name]
        if (values === undefined) headers[name] = [value]
        else values.push(value)
        headerBytes += name.length + value.length + 4
      }
      const status = head.status
      const initialAge = Number(getFlatHeader(head.headers, 'age') ?? 0) || 0
      const etag = getFlatHeader(head.headers, 'etag')
      return new CacheTee(maxEntry, (body) => {
        if (length !== undefined && Number(length) !== body.length) return
        const size = body.length + headerBytes + key.length * 2 + 256
        store.set(key, { url: urlOf(ctx), status, headers, body, etag, storedAt: now, expiresAt: now + ttl, initialAge, size })
      })
    }

    return {
      request(ctx) {
        const method = ctx.method
        if (method === 'PURGE') return purge(ctx)
        if (method !== 'GET' && method !== 'HEAD') return undefined
        if (ctx.header('range') !== undefined) return undefined
        const cc = parseCacheControl(ctx.header('cache-control'))
        if (cc.has('no-store')) return undefined
        const key = keyOf(ctx, urlOf(ctx))
        ctx.vars[stateVar] = key
        if (cc.has('no-cache') || cc.get('max-age') === '0' || ctx.header('pragma') === 'no-cache') return undefined
        const entry = store.get(key, Date.now())
        if (entry === undefined) return undefined
        ctx.vars[stateVar] = 'hit'
        return hit(ctx, entry)
      },
      response_body(ctx, head) {
        const key = ctx.vars[stateVar]
        if (typeof key !== 'string' || key === 'hit' || ctx.method !== 'GET') return undefined
        return storeLater(ctx, key, head)
      },
      response(ctx, head) {
        const state = ctx.vars[stateVar]
        if (typeof state === 'string' && state !== 'hit') setFlatHeader(head.headers, 'X-Cache', 'MISS')
        else if (UNSAFE.has(ctx.method) && head.status < 400) store.deleteUrl(urlOf(ctx))
      },
    }
  },
})

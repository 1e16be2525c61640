import { CompressionSchema } from '@fleetgate/schema'
import { parseSize } from '@fleetgate/schema/runtime'
import { compileNegotiation } from './accept-encoding.ts'
import { appendFlatToken, getFlatHeader, removeFlatHeader, setFlatHeader } from './flat-headers.ts'
import { FlushingCompressor } from './flushing-compressor.ts'
import { definePlugin, type RequestContext, type ResponseHead } from './types.ts'

/** A compiled content_types list: does a media type (lower-case, no parameters) qualify? */
function compileMediaTypes(entries: readonly string[]): (media: string) => boolean {
  const exact = new Set<string>()
  const prefixes: string[] = []
  const suffixes: Array<[string, string]> = []
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase()
    const m = /^([a-z0-9!#$&^_.+-]+)\/(\*|\*(\+[a-z0-9!#$&^_.+-]+)|[a-z0-9!#$&^_.+-]+)$/.exec(entry)
    if (m === null) throw new Error(`content_types: expected "type/subtype", "type/*" or "type/*+suffix", got "${raw}"`)
    if (m[2] === '*') prefixes.push(`${m[1]}/`)
    else if (m[3] !== undefined) suffixes.push([`${m[1]}/`, m[3]])
    else exact.add(entry)
  }
  return (media) =>
    exact.has(media) || prefixes.some((p) => media.startsWith(p)) || suffixes.some(([p, s]) => media.startsWith(p) && media.endsWith(s))
}

/**
 * Compresses response bodies (the upstream's and plugin replies) with zstd, brotli or gzip as
 * the client's Accept-Encoding prefers, streamed and flushed chunk by chunk (never buffered).
 * Left alone: HEAD, 204, 304, 206, bodies already encoded, Cache-Control: no-transform, media
 * types not listed, and a Content-Length under min_size. Vary: Accept-Encoding is set on every
 * response whose encoding depends on it; Content-Length is dropped and a strong ETag made weak.
 * HEAD, 304 and 206 answers get the headers the full GET answer would have (RFC 9110 9.3.2,
 * 15.4.5): Vary, and for HEAD and 304 the weak ETag (a 304 loses its Content-Length, which is
 * the identity length); a 206 is a range of the identity representation and keeps a strong ETag.
 */
export default definePlugin({
  name: 'compression',
  priority: 950,
  schema: CompressionSchema,
  create(config) {
    const negotiate = compileNegotiation(config.encodings)
    const isCompressible = compileMediaTypes(config.content_types)
    const minSize = parseSize(config.min_size)
    const levels = { gzip: config.gzip_level, br: config.br_level, zstd: config.zstd_level }

    /** Would a full answer with these headers (its representation `size` bytes, if known) be compressed for some client? */
    const isEligible = (headers: readonly string[], size: number | undefined): boolean => {
      const encoding = getFlatHeader(headers, 'content-encoding')
      if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return false
      const type = getFlatHeader(headers, 'content-type')
      if (type === undefined) return false
      const semicolon = type.indexOf(';')
      if (!isCompressible((semicolon < 0 ? type : type.slice(0, semicolon)).trim().toLowerCase())) return false
      if (size !== undefined && size < minSize) return false
      const cacheControl = getFlatHeader(headers, 'cache-control')
      return cacheControl === undefined || !/no-transform/i.test(cacheControl)
    }

    /** HEAD, 304 and 206: the Vary (and, but for a 206, the ETag and length) of the full GET answer. */
    const matchFullAnswer = (ctx: RequestContext, head: ResponseHead): void => {
      const { status, headers } = head
      if (status === 304 ? !isNotModifiedEligible(ctx, headers) : !isEligible(headers, representationSize(status, headers))) return
      appendFlatToken(headers, 'Vary', 'Accept-Encoding')
      if (status === 206) return
      const coding = negotiate(ctx.header('accept-encoding'))
      if (coding === undefined) return
      // The length (a HEAD's, or a 304's from a cache) is the identity one; the compressed answer has none.
      removeFlatHeader(headers, 'content-length')
      weakenEtag(headers)
      if (status === 304) return
      removeFlatHeader(headers, 'accept-ranges')
      setFlatHeader(headers, 'Content-Encoding', coding)
    }

    /**
     * A 304 with a Content-Type (the cache's, from the stored response) is judged like the full
     * answer; without one (an upstream's), a client validating with the weak form of its strong
     * ETag holds our compressed answer.
     */
    const isNotModifiedEligible = (ctx: RequestContext, headers: readonly string[]): boolean => {
      if (getFlatHeader(headers, 'content-type') !== undefined) return isEligible(headers, representationSize(304, headers))
      const etag = getFlatHeader(headers, 'etag')
      const validators = ctx.header('if-none-match')
      return etag !== undefined && validators !== undefined && !etag.startsWith('W/') && validators.includes(`W/${etag}`)
    }

    return {
      response_body(ctx, head) {
        const { headers } = head
        if (head.status === 206 || head.status === 304) return undefined
        const length = getFlatHeader(headers, 'content-length')
        const size = length === undefined ? undefined : Number(length)
        if (!isEligible(headers, size)) return undefined
        appendFlatToken(headers, 'Vary', 'Accept-Encoding')
        const coding = negotiate(ctx.header('accept-encoding'))
        if (coding === undefined) return undefined
        removeFlatHeader(headers, 'content-length')
        removeFlatHeader(headers, 'accept-ranges')
        setFlatHeader(headers, 'Content-Encoding', coding)
        weakenEtag(headers)
        return new FlushingCompressor(coding, levels, size)
      },
      response(ctx, head) {
        // GET answers other than 304 and 206 went through response_body; bodyless statuses have no representation.
        const status = head.status
        if (status !== 304 && status !== 206 && ctx.method !== 'HEAD') return
        if (status === 204 || status < 200) return
        matchFullAnswer(ctx, head)
      },
    }
  },
})

/** A strong ETag made weak: the compressed bytes are not the identity ones (RFC 9110 8.8.3). */
function weakenEtag(headers: string[]): void {
  const etag = getFlatHeader(headers, 'etag')
  if (etag !== undefined && !etag.startsWith('W/')) setFlatHeader(headers, 'ETag', `W/${etag}`)
}

/** The full representation's size: a 206's Content-Range total ("bytes 0-99/5056"), else Content-Length. */
function representationSize(status: number, headers: readonly string[]): number | undefined {
  if (status === 206) {
    const range = getFlatHeader(headers, 'content-range')
    const slash = range === undefined ? -1 : range.lastIndexOf('/')
    const total = slash < 0 ? Number.NaN : Number((range as string).slice(slash + 1))
    return Number.isFinite(total) ? total : undefined
  }
  const length = getFlatHeader(headers, 'content-length')
  return length === undefined ? undefined : Number(length)
}

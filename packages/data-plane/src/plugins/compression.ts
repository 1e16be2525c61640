import { CompressionSchema } from '@fleetgate/schema'
import { parseSize } from '@fleetgate/schema/runtime'
import { compileNegotiation } from './accept-encoding.ts'
import { appendFlatToken, getFlatHeader, removeFlatHeader, setFlatHeader } from './flat-headers.ts'
import { FlushingCompressor } from './flushing-compressor.ts'
import { definePlugin } from './types.ts'

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
    return {
      response_body(ctx, head) {
        const { headers } = head
        if (head.status === 206 || head.status === 304) return undefined
        const encoding = getFlatHeader(headers, 'content-encoding')
        if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return undefined
        const type = getFlatHeader(headers, 'content-type')
        if (type === undefined) return undefined
        const semicolon = type.indexOf(';')
        if (!isCompressible((semicolon < 0 ? type : type.slice(0, semicolon)).trim().toLowerCase())) return undefined
        const length = getFlatHeader(headers, 'content-length')
        const size = length === undefined ? undefined : Number(length)
        if (size !== undefined && size < minSize) return undefined
        const cacheControl = getFlatHeader(headers, 'cache-control')
        if (cacheControl !== undefined && /no-transform/i.test(cacheControl)) return undefined
        appendFlatToken(headers, 'Vary', 'Accept-Encoding')
        const coding = negotiate(ctx.header('accept-encoding'))
        if (coding === undefined) return undefined
        removeFlatHeader(headers, 'content-length')
        removeFlatHeader(headers, 'accept-ranges')
        setFlatHeader(headers, 'Content-Encoding', coding)
        const etag = getFlatHeader(headers, 'etag')
        if (etag !== undefined && !etag.startsWith('W/')) setFlatHeader(headers, 'ETag', `W/${etag}`)
        return new FlushingCompressor(coding, levels, size)
      },
    }
  },
})

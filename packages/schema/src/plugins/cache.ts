import type { Static } from '@sinclair/typebox'
import { Type } from '@sinclair/typebox'
import { HeaderName } from '../header-field.ts'
import { Duration, Size } from '../schema-types.ts'
import { parseSize } from '../units.ts'
import { pluginObject } from './plugin-object.ts'
import { registerPluginSchema } from './registry.ts'

/** `type = "cache"`: an in-memory HTTP cache of GET responses (a shared cache, RFC 9111), LRU-bounded. */
export const CacheSchema = registerPluginSchema(
  'cache',
  pluginObject(
    'cache',
    {
      default_ttl: Duration('0s', 'freshness of a response without max-age, s-maxage or Expires ("0s": such responses are not stored)'),
      max_ttl: Duration('24h', 'longest freshness, whatever the response says'),
      max_size: Size('64mb', 'memory for all entries; the least recently used go first'),
      max_entry_size: Size('1mb', 'largest response body stored; a bigger one is streamed through and not stored'),
      vary: Type.Array(HeaderName(), {
        default: [],
        description: 'request headers that are part of the key; a response varying on any other header is not stored',
      }),
      coalesce_timeout: Duration(
        '5s',
        'how long a miss waits for a request already fetching the same key before going upstream itself ("0s": no coalescing)',
      ),
      stale_while_revalidate: Duration(
        '0s',
        'how long past freshness an entry is served while another request revalidates it, unless the response says stale-while-revalidate',
      ),
      stale_if_error: Duration(
        '0s',
        'how long past freshness an entry is served when the upstream fails (5xx, unreachable), unless the response says stale-if-error',
      ),
      purge_allow: Type.Array(Type.String(), {
        default: ['127.0.0.1/32', '::1/128'],
        description: 'client IPs or CIDRs allowed to send PURGE (the URL, or a prefix ending in "*")',
      }),
    },
    'caches GET responses in memory (Cache-Control, Expires, Vary, revalidation, coalescing), X-Cache, PURGE from allowed IPs',
  ),
  (config, push) => {
    // An entry bigger than the whole cache could never be kept: it would evict everything, then itself.
    if (parseSize(config.max_entry_size) > parseSize(config.max_size)) {
      push('max_entry_size', `${JSON.stringify(config.max_entry_size)} is larger than max_size ${JSON.stringify(config.max_size)}`)
    }
  },
)

export type CacheConfig = Static<typeof CacheSchema>

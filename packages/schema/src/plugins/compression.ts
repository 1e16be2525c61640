import type { Static } from '@sinclair/typebox'
import { Type } from '@sinclair/typebox'
import { Size, StringEnum } from '../schema-types.ts'
import { pluginObject } from './plugin-object.ts'
import { registerPluginSchema } from './registry.ts'

/** `type = "compression"`: gzip, brotli and zstd of response bodies, negotiated by Accept-Encoding, streamed. */
export const CompressionSchema = registerPluginSchema(
  'compression',
  pluginObject(
    'compression',
    {
      encodings: Type.Array(StringEnum(['zstd', 'br', 'gzip'] as const), {
        default: ['zstd', 'br', 'gzip'],
        minItems: 1,
        description: 'encodings offered, the preferred first (when the client weighs several equally)',
      }),
      gzip_level: Type.Integer({ minimum: 1, maximum: 9, default: 6 }),
      br_level: Type.Integer({ minimum: 0, maximum: 11, default: 4, description: 'brotli quality' }),
      zstd_level: Type.Integer({ minimum: 1, maximum: 19, default: 3 }),
      min_size: Size(
        '1kb',
        'responses with a smaller Content-Length are sent as they are (a streamed body of unknown length is compressed)',
      ),
      content_types: Type.Array(Type.String({ minLength: 1 }), {
        default: [
          'text/*',
          'application/json',
          'application/*+json',
          'application/javascript',
          'application/xml',
          'application/*+xml',
          'application/wasm',
          'image/svg+xml',
        ],
        description: 'media types compressed: "type/subtype", "type/*" or "type/*+suffix"',
      }),
    },
    'compresses response bodies (gzip, br, zstd) by Accept-Encoding, streamed',
  ),
)

export type CompressionConfig = Static<typeof CompressionSchema>

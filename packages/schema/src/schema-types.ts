import { Type } from '@sinclair/typebox'

/** A duration string such as "500ms", "3s", "1m30s" or "2h"; see parseDuration. */
export const Duration = (def: string, description?: string) =>
  Type.String({ format: 'duration', default: def, description: description ?? 'duration: ms, s, m, h' })

/** A size string such as "512b", "16kb", "1mb" or "2gb" (or a plain number of bytes); see parseSize. */
export const Size = (def: string | undefined, description?: string) =>
  Type.Unsafe<string | number>({
    type: ['string', 'integer'],
    format: 'size',
    minimum: 0,
    ...(def === undefined ? {} : { default: def }),
    description: description ?? 'size: b, kb, mb, gb',
  })

/** A string restricted to a closed list, reported as "must be one of ..." rather than a union. */
export const StringEnum = <T extends string>(values: readonly T[], options: { default?: T; description?: string } = {}) =>
  Type.Unsafe<T>({ type: 'string', enum: values, ...options })

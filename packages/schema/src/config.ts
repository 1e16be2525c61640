import { type Static, Type } from '@sinclair/typebox'
import { NAME_PATTERN } from './resource-name.ts'
import { BasicSchema } from './sections/basic.ts'
import { CertificateSchema } from './sections/certificate.ts'
import { LocationSchema } from './sections/location.ts'
import { MetricsSchema, TracingSchema } from './sections/observability.ts'
import { ServerSchema } from './sections/server.ts'
import { UpstreamSchema } from './sections/upstream.ts'

export { invalidNameReason, NAME_PATTERN, RESERVED_NAMES } from './resource-name.ts'

// A key outside the name pattern is an error (additionalProperties), not silently left unchecked.
const named = <T extends ReturnType<typeof Type.Object>>(item: T) =>
  Type.Record(Type.String({ pattern: NAME_PATTERN }), item, { default: {}, additionalProperties: false })

/**
 * A plugin instance as stored in config: `type` plus that type's keys. The per-type schema
 * (plugins/) is checked separately so errors name the right keys.
 */
export const PluginInstanceSchema = Type.Object({ type: Type.String() }, { additionalProperties: true })

/** The whole configuration, section by section (the TOML layout). */
export const ConfigSchema = Type.Object(
  {
    basic: Type.Object(BasicSchema.properties, { additionalProperties: false, default: {} }),
    upstreams: named(UpstreamSchema),
    locations: named(LocationSchema),
    servers: named(ServerSchema),
    plugins: named(PluginInstanceSchema),
    certificates: named(CertificateSchema),
    metrics: Type.Object(MetricsSchema.properties, { additionalProperties: false, default: {} }),
    tracing: Type.Object(TracingSchema.properties, { additionalProperties: false, default: {} }),
  },
  { additionalProperties: false },
)

/** A validated configuration with every default applied. */
export type Config = Static<typeof ConfigSchema>
export { RESOURCE_KINDS, type ResourceKind, SINGLETON_SECTIONS, type SingletonSection } from './kinds.ts'

/** Schema of one resource kind or singleton section, for the API and the UI. */
export const sectionSchemas = {
  basic: BasicSchema,
  upstreams: UpstreamSchema,
  locations: LocationSchema,
  servers: ServerSchema,
  plugins: PluginInstanceSchema,
  certificates: CertificateSchema,
  metrics: MetricsSchema,
  tracing: TracingSchema,
} as const

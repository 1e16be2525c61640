import { type Static, Type } from '@sinclair/typebox'

/** `[metrics]`: the status listener (health, status and Prometheus metrics). */
export const MetricsSchema = Type.Object(
  {
    addr: Type.Optional(Type.String({ description: 'host:port of the status listener' })),
    path: Type.String({ default: '/metrics' }),
  },
  { additionalProperties: false },
)

/** `[tracing]`: OpenTelemetry export. */
export const TracingSchema = Type.Object(
  {
    endpoint: Type.Optional(
      Type.String({
        pattern: '^https?://[^\\s/]+',
        description: 'OTLP/HTTP base URL (/v1/traces is appended); tracing is off when unset',
      }),
    ),
    service_name: Type.String({ default: 'fleetgate', minLength: 1, description: 'service.name of the exported spans' }),
    sampling_ratio: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.01,
      description: 'share of new traces sampled; a sampled traceparent from the client is always honoured',
    }),
  },
  { additionalProperties: false },
)

export type MetricsConfig = Static<typeof MetricsSchema>
export type TracingConfig = Static<typeof TracingSchema>

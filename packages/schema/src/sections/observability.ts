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
    endpoint: Type.Optional(Type.String({ description: 'OTLP/HTTP base URL' })),
    service_name: Type.String({ default: 'fleetgate' }),
    sampling_ratio: Type.Number({ minimum: 0, maximum: 1, default: 0.01 }),
  },
  { additionalProperties: false },
)

export type MetricsConfig = Static<typeof MetricsSchema>
export type TracingConfig = Static<typeof TracingSchema>

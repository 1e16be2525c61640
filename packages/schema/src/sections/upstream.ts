import { type Static, Type } from '@sinclair/typebox'
import { Duration, StringEnum } from '../schema-types.ts'

/** `[upstreams.NAME]`: a pool of backends and how to pick among them. */
export const UpstreamSchema = Type.Object(
  {
    addrs: Type.Array(Type.String(), { minItems: 1, description: '"host:port [weight]"' }),
    algorithm: Type.String({
      default: 'round_robin',
      description: 'round_robin | least_conn | ip_hash | hash:header:NAME | hash:cookie:NAME | hash:query:NAME | random',
    }),
    health_check: Type.Optional(
      Type.String({
        description:
          'http://host/path?interval=2s&failure=2&success=1&timeout=1s, tcp://, or grpc://?service=pkg.Svc (grpcs:// over TLS): grpc.health.v1 Check, up only when SERVING',
      }),
    ),
    connection_timeout: Duration('3s'),
    read_timeout: Duration('30s', 'time to wait for response headers and between body chunks'),
    idle_timeout: Duration('60s', 'keep-alive idle time of upstream connections'),
    max_retries: Type.Integer({
      minimum: 0,
      maximum: 10,
      default: 2,
      description: 'other backends tried after a connect failure (idempotent or body-less requests)',
    }),
    max_connections: Type.Integer({ minimum: 1, default: 256, description: 'connections per backend' }),
    circuit_break_failures: Type.Integer({
      minimum: 0,
      default: 5,
      description: 'consecutive failures that eject a backend (0 turns passive ejection off)',
    }),
    circuit_break_open_duration: Duration('10s', 'time an ejected backend waits before a half-open trial'),
    alpn: StringEnum(['h1', 'h2', 'h2h1'], { default: 'h1' }),
    tls: Type.Boolean({ default: false, description: 'connect to backends over TLS (implied by sni)' }),
    sni: Type.Optional(Type.String()),
    verify_cert: Type.Boolean({ default: true }),
    ca: Type.Optional(Type.String({ description: 'CA bundle, PEM inline or a path' })),
    tls_cert: Type.Optional(Type.String({ description: 'client certificate presented to backends (mTLS), PEM inline or a path' })),
    tls_key: Type.Optional(Type.String({ description: 'key of tls_cert, PEM inline or a path' })),
  },
  { additionalProperties: false },
)

export type UpstreamConfig = Static<typeof UpstreamSchema>

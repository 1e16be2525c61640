import { type Static, Type } from '@sinclair/typebox'
import { Duration, Size, StringEnum } from '../schema-types.ts'

/** `[servers.NAME]`: a listener and the locations it serves. */
export const ServerSchema = Type.Object(
  {
    addr: Type.String({ description: 'host:port to listen on' }),
    locations: Type.Array(Type.String(), { default: [] }),
    plugins: Type.Array(Type.String(), { default: [], description: 'global plugins, before the location plugins' }),
    access_log: Type.Optional(Type.String({ description: 'combined | common | short | tiny | json | a format' })),
    access_log_path: Type.Optional(Type.String({ description: 'file the access log is appended to; stdout when unset' })),
    access_log_max_size: Type.Optional(Size(undefined, 'rotate the access log file when it reaches this size')),
    access_log_rotate_daily: Type.Boolean({ default: false, description: 'rotate the access log file at local midnight' }),
    access_log_max_files: Type.Integer({ minimum: 1, default: 7, description: 'rotated access log files kept; older ones are deleted' }),
    h2c: Type.Boolean({ default: false, description: 'HTTP/2 with prior knowledge on a plain listener (HTTP/1.1 still served)' }),
    tls_cert: Type.Optional(Type.String({ description: 'PEM inline or a path' })),
    tls_key: Type.Optional(Type.String({ description: 'PEM inline or a path' })),
    global_certificates: Type.Boolean({ default: false }),
    certificates: Type.Array(Type.String(), { default: [] }),
    enable_http2: Type.Boolean({ default: false, description: 'offer h2 by ALPN on a TLS listener (http/1.1 fallback)' }),
    h2_max_concurrent_streams: Type.Integer({
      minimum: 1,
      default: 100,
      description: 'HTTP/2 streams one client connection may open at once',
    }),
    h2_max_resets_per_second: Type.Integer({
      minimum: 1,
      default: 200,
      description: 'streams a client may reset per second before its connection is closed (rapid reset)',
    }),
    tls_min_version: StringEnum(['1.2', '1.3'], { default: '1.2', description: 'oldest TLS version accepted' }),
    tls_max_version: Type.Optional(StringEnum(['1.2', '1.3'], { description: 'newest TLS version offered (default: 1.3)' })),
    tls_ciphers: Type.Optional(
      Type.String({ description: 'OpenSSL cipher list for TLS 1.2 and TLS 1.3 suites, colon-separated (default: Node defaults)' }),
    ),
    ocsp_stapling: Type.Optional(
      Type.Boolean({ description: 'staple OCSP responses (default: on for certificates that name an OCSP responder)' }),
    ),
    tls_client_auth: StringEnum(['off', 'optional', 'required'], {
      default: 'off',
      description: 'ask clients for a certificate verified against tls_client_ca (mTLS)',
    }),
    tls_client_ca: Type.Optional(Type.String({ description: 'CA bundle client certificates are verified against, PEM inline or a path' })),
    encoded_slashes: StringEnum(['reject', 'keep'], {
      default: 'reject',
      description:
        'a path holding %2F or %5C: reject (400), or keep them encoded (matched as data and forwarded so; only for backends that do not decode them before routing)',
    }),
    max_header_size: Size('16kb', 'largest request head; bigger gets 431'),
    max_headers: Type.Integer({ minimum: 1, default: 100, description: 'most request headers; more gets 431' }),
    header_timeout: Duration('30s', 'time a client has to send the request head'),
    request_timeout: Duration('300s', 'time a client has to send the whole request'),
    keepalive_timeout: Duration('60s', 'idle time of a client keep-alive connection'),
  },
  { additionalProperties: false },
)

export type ServerConfig = Static<typeof ServerSchema>

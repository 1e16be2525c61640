import { type Static, Type } from '@sinclair/typebox'
import { Duration, Size } from '../schema-types.ts'

const HeaderList = (description: string) => Type.Array(Type.String(), { default: [], description })

/** `[locations.NAME]`: which requests match and what happens to them. */
export const LocationSchema = Type.Object(
  {
    upstream: Type.Optional(Type.String()),
    host: Type.Optional(
      Type.Unsafe<string | string[]>({
        type: ['string', 'array'],
        items: { type: 'string' },
        description: 'exact, *.suffix or ~regex (or a list of them); case and port ignored',
      }),
    ),
    path: Type.String({ default: '', description: 'prefix, "=/exact" or "~regex"; empty matches all' }),
    methods: Type.Array(Type.String(), { default: [] }),
    match_headers: HeaderList('"name:value" or "name"'),
    match_query: HeaderList('"name:value" or "name"'),
    priority: Type.Optional(Type.Integer({ description: 'higher wins; otherwise exact > longer prefix > regex' })),
    rewrite: Type.Optional(Type.String({ description: 'replacement for a prefix path, or "REGEX REPLACEMENT"' })),
    upstream_host: Type.Optional(Type.String({ description: 'Host header sent upstream; the client Host by default' })),
    headers_add: HeaderList('"Name:value" appended to the upstream request'),
    headers_set: HeaderList('"Name:value" replacing the upstream request header'),
    headers_remove: HeaderList('header names removed from the upstream request'),
    response_headers_add: HeaderList('"Name:value" appended to the response'),
    response_headers_set: HeaderList('"Name:value" replacing the response header'),
    response_headers_remove: HeaderList('header names removed from the response'),
    client_max_body_size: Type.Optional(Size(undefined, 'largest request body; bigger gets 413 (unlimited when unset)')),
    buffer_request: Type.Boolean({
      default: false,
      description: 'read the whole request body before contacting the upstream (allows retries of any method)',
    }),
    plugins: Type.Array(Type.String(), { default: [] }),
    server_timing: Type.Boolean({
      default: false,
      description:
        'add a Server-Timing response header: upstream;dur (upstream answer time) and total;dur (gateway time to the response head), in ms',
    }),
    websocket_idle_timeout: Duration('10m', 'a proxied WebSocket with no traffic either way for this long is closed; "0s" never'),
    grpc_web: Type.Boolean({
      default: false,
      description: 'translate gRPC-web (application/grpc-web, +proto, -text) requests to gRPC for an h2 upstream',
    }),
  },
  { additionalProperties: false },
)

export type LocationConfig = Static<typeof LocationSchema>

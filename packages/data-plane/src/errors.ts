/**
 * Every error the gateway itself answers with: one stable code, its HTTP status, a short
 * public message, and the gRPC status code a gRPC client gets instead (HTTP 200 with
 * `grpc-status`: 4 DEADLINE_EXCEEDED, 8 RESOURCE_EXHAUSTED, 12 UNIMPLEMENTED, 13 INTERNAL,
 * 14 UNAVAILABLE). Branch on `code`, never on a message. CLIENT_CLOSED is never answered (the
 * client is gone): it is the nginx-style 499 that logs and metrics record for such a request.
 * SHUTDOWN_CUT is never answered either: it records a request the gateway itself cut off when a
 * graceful shutdown's grace_period ended (503, or the status of a head already sent).
 */
export const ERROR_CODES = {
  BAD_REQUEST: { status: 400, message: 'malformed request', grpc: 13 },
  NO_ROUTE: { status: 404, message: 'no location matches this request', grpc: 12 },
  METHOD_NOT_ALLOWED: { status: 405, message: 'CONNECT is only accepted to open a WebSocket (RFC 8441)', grpc: 12 },
  REQUEST_TIMEOUT: { status: 408, message: 'the client was too slow sending the request', grpc: 4 },
  BODY_TOO_LARGE: { status: 413, message: 'request body is larger than this location accepts', grpc: 8 },
  HEADERS_TOO_LARGE: { status: 431, message: 'request headers are too large or too many', grpc: 8 },
  CLIENT_CLOSED: { status: 499, message: 'the client closed the connection before the response was sent', grpc: 1 },
  INTERNAL: { status: 500, message: 'internal gateway error', grpc: 13 },
  REQUEST_NOT_FORWARDABLE: { status: 500, message: 'the request cannot be forwarded upstream as it is', grpc: 13 },
  NO_UPSTREAM: { status: 502, message: 'the location has no upstream', grpc: 14 },
  UPSTREAM_CONNECT: { status: 502, message: 'could not connect to the upstream', grpc: 14 },
  UPSTREAM_RESET: { status: 502, message: 'the upstream closed the connection', grpc: 14 },
  UPSTREAM_PROTOCOL: { status: 502, message: 'the upstream sent an invalid response', grpc: 13 },
  NO_HEALTHY_BACKEND: { status: 503, message: 'no healthy backend in the upstream', grpc: 14 },
  SHUTTING_DOWN: { status: 503, message: 'the gateway is shutting down', grpc: 14 },
  SHUTDOWN_CUT: { status: 503, message: 'the gateway shut down before the response was complete', grpc: 14 },
  UPSTREAM_TIMEOUT: { status: 504, message: 'the upstream did not answer in time', grpc: 4 },
  UPSTREAM_CONNECT_TIMEOUT: { status: 504, message: 'connecting to the upstream timed out', grpc: 14 },
  HTTP_VERSION_NOT_SUPPORTED: { status: 505, message: 'this HTTP version is not supported on this connection', grpc: 12 },
} as const satisfies Record<string, { status: number; message: string; grpc: number }>

/** A stable error code from ERROR_CODES. */
export type ErrorCode = keyof typeof ERROR_CODES

/** An error the gateway answers with its code's status; `cause` keeps the underlying error. */
export class GatewayError extends Error {
  readonly code: ErrorCode
  readonly status: number
  constructor(code: ErrorCode, detail?: string, options?: ErrorOptions) {
    super(detail ?? ERROR_CODES[code].message, options)
    this.name = 'GatewayError'
    this.code = code
    this.status = ERROR_CODES[code].status
  }
}

const UNDICI_CODES: Record<string, ErrorCode> = {
  ECONNREFUSED: 'UPSTREAM_CONNECT',
  EHOSTUNREACH: 'UPSTREAM_CONNECT',
  ENETUNREACH: 'UPSTREAM_CONNECT',
  ENOTFOUND: 'UPSTREAM_CONNECT',
  EAI_AGAIN: 'UPSTREAM_CONNECT',
  UND_ERR_CONNECT_TIMEOUT: 'UPSTREAM_CONNECT_TIMEOUT',
  UND_ERR_HEADERS_TIMEOUT: 'UPSTREAM_TIMEOUT',
  UND_ERR_BODY_TIMEOUT: 'UPSTREAM_TIMEOUT',
  UND_ERR_SOCKET: 'UPSTREAM_RESET',
  ECONNRESET: 'UPSTREAM_RESET',
  EPIPE: 'UPSTREAM_RESET',
  HPE_INVALID_CONSTANT: 'UPSTREAM_PROTOCOL',
  UND_ERR_INFO: 'UPSTREAM_PROTOCOL',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'UPSTREAM_PROTOCOL',
  // undici refused to build the request (a header or path it does not send): no backend saw it.
  UND_ERR_NOT_SUPPORTED: 'REQUEST_NOT_FORWARDABLE',
  UND_ERR_INVALID_ARG: 'REQUEST_NOT_FORWARDABLE',
}

/** Maps an upstream (undici or socket) error to a gateway error code. */
export function upstreamErrorCode(err: unknown): ErrorCode {
  const code = (err as { code?: string }).code
  if (code !== undefined && UNDICI_CODES[code]) return UNDICI_CODES[code]
  if (code?.startsWith('HPE_')) return 'UPSTREAM_PROTOCOL'
  if (code?.startsWith('ERR_TLS') || code?.includes('CERT')) return 'UPSTREAM_CONNECT'
  return 'UPSTREAM_RESET'
}

/**
 * True when the backend is to blame for an upstream error code (passive ejection, circuit
 * breaker, retries elsewhere); false for a request undici refused to build, which every backend
 * would refuse alike.
 */
export function isBackendFailure(code: ErrorCode): boolean {
  return code !== 'REQUEST_NOT_FORWARDABLE'
}

/** True when the upstream never received the request, so another backend may be tried safely. */
export function isConnectFailure(code: ErrorCode): boolean {
  return code === 'UPSTREAM_CONNECT' || code === 'UPSTREAM_CONNECT_TIMEOUT'
}

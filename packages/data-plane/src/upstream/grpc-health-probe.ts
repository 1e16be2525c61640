import { connect, type IncomingHttpHeaders } from 'node:http2'
import { backendOrigin } from './backend.ts'
import { decodeServingStatus, encodeHealthCheckFrame, SERVING } from './grpc-health-message.ts'
import { tlsConnectOptions, type UpstreamTls } from './tls-options.ts'

/** One backend's gRPC health check, as the checker resolved it from the spec. */
export interface GrpcHealthTarget {
  host: string
  port: number
  /** TLS settings for grpcs:// checks; undefined for grpc:// (h2c, prior knowledge). */
  tls: UpstreamTls | undefined
  /** :authority (and TLS server name when set): the check URL's host, else the backend's address. */
  authority: string
  service: string
  timeoutMs: number
}

const PATH = '/grpc.health.v1.Health/Check'
const STATUS_NAMES = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN']
/** A HealthCheckResponse is a few bytes; anything bigger is not one. */
const MAX_BODY = 64 * 1024

/**
 * Calls grpc.health.v1.Health/Check on a fresh HTTP/2 connection (so a check also proves the
 * backend accepts connections). Resolves undefined when the answer is SERVING, otherwise a
 * short reason: connection or protocol error, a non-OK grpc-status (UNIMPLEMENTED when the
 * server has no health service, NOT_FOUND for an unknown service), another serving status,
 * or no answer within the timeout. Never rejects.
 */
export function probeGrpcHealth(target: GrpcHealthTarget, stopping: AbortSignal): Promise<string | undefined> {
  return new Promise((resolve) => {
    const { host, port, tls } = target
    const servername = target.authority.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')
    const session = connect(
      backendOrigin(tls === undefined ? 'http' : 'https', host, port),
      tls === undefined ? {} : { ...tlsConnectOptions(tls, servername), ALPNProtocols: ['h2'] },
    )
    let settled = false
    const finish = (reason: string | undefined) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      stopping.removeEventListener('abort', onStop)
      session.destroy()
      resolve(reason)
    }
    const timer = setTimeout(() => finish(`no answer within ${target.timeoutMs}ms`), target.timeoutMs)
    const onStop = () => finish('checker stopped')
    stopping.addEventListener('abort', onStop, { once: true })
    session.on('error', (err) => finish(err.message))

    const stream = session.request({
      ':method': 'POST',
      ':path': PATH,
      ':authority': target.authority,
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-timeout': `${target.timeoutMs}m`,
    })
    let head: IncomingHttpHeaders = {}
    let trailers: IncomingHttpHeaders = {}
    const chunks: Buffer[] = []
    let size = 0
    stream.on('response', (headers) => {
      head = headers
    })
    stream.on('trailers', (t) => {
      trailers = t
    })
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY) finish('health response too large')
      else chunks.push(chunk)
    })
    stream.on('error', (err) => finish(err.message))
    stream.on('end', () => finish(verdict(head, trailers, Buffer.concat(chunks))))
    stream.end(encodeHealthCheckFrame(target.service))
  })
}

/** undefined for OK + SERVING; otherwise why the backend counts as down. */
function verdict(head: IncomingHttpHeaders, trailers: IncomingHttpHeaders, body: Buffer): string | undefined {
  if (Number(head[':status']) !== 200) return `HTTP status ${head[':status']}`
  // A trailers-only answer (an error) carries grpc-status in the head.
  const grpcStatus = trailers['grpc-status'] ?? head['grpc-status']
  if (grpcStatus !== '0') {
    const message = trailers['grpc-message'] ?? head['grpc-message']
    return `grpc-status ${grpcStatus ?? 'missing'}${message ? ` (${percentDecode(String(message))})` : ''}`
  }
  if (body.length < 5 || body[0] !== 0 || body.readUInt32BE(1) !== body.length - 5) return 'malformed HealthCheckResponse frame'
  let status: number
  try {
    status = decodeServingStatus(body.subarray(5))
  } catch (err) {
    return (err as Error).message
  }
  return status === SERVING ? undefined : `serving status ${STATUS_NAMES[status] ?? status}`
}

function percentDecode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

import { setTimeout as sleep } from 'node:timers/promises'
import {
  ClientClosedError,
  Etcd3,
  EtcdLeaseInvalidError,
  GRPCResourceExhastedError,
  GRPCUnavailableError,
  type IOptions,
  isRecoverableError,
} from 'etcd3'
import { StoreError } from './store-error.ts'

/** Options for {@link createEtcdClient}. */
export interface EtcdClientOptions {
  /** Every member's client URL (not one load-balanced address: hosts are retried in turn). */
  endpoints: string[]
  /** Deadline of each unary call (get, put, txn, lease grant); streams have none. Default 5 s. */
  callTimeoutMs?: number
  /** Largest response accepted. Default 64 MiB (grpc-js's 4 MiB default breaks big prefix reads). */
  maxReceiveBytes?: number
  /** etcd user and password (etcd auth enabled); the password is never logged. */
  auth?: { username: string; password: string }
  /** TLS to etcd (https:// endpoints): CA bundle, and a client certificate and key for mTLS. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer }
}

type FaultHandling = NonNullable<IOptions['faultHandling']>
type Policy = NonNullable<FaultHandling['global']>
type Backoff = NonNullable<FaultHandling['watchBackoff']>

const RETRY_ATTEMPTS = 3

/**
 * An etcd3 client with the pitfalls of its defaults fixed (research/etcd-control-plane.md section 4.2):
 * a 64 MiB receive limit, gRPC keep-alive, deadlines on unary calls, and fault handling that retries only
 * unreachable-host errors and never opens a circuit breaker (its default breaker counts a deterministic
 * ResourceExhausted as a host failure, and then fails every unrelated call for 5 s).
 */
export function createEtcdClient(opts: EtcdClientOptions): Etcd3 {
  const callTimeoutMs = opts.callTimeoutMs ?? 5000
  return new Etcd3({
    hosts: opts.endpoints,
    ...(opts.auth === undefined ? {} : { auth: { username: opts.auth.username, password: opts.auth.password } }),
    ...(opts.tls === undefined
      ? {}
      : {
          credentials: {
            // Without a CA bundle grpc-js trusts the system roots (etcd3 types the field as required).
            rootCertificate: opts.tls.ca as Buffer,
            ...(opts.tls.cert === undefined ? {} : { certChain: opts.tls.cert }),
            ...(opts.tls.key === undefined ? {} : { privateKey: opts.tls.key }),
          },
        }),
    grpcOptions: {
      'grpc.max_receive_message_length': opts.maxReceiveBytes ?? 64 * 1024 * 1024,
      // etcd rejects pings closer than 5 s apart; 30 s finds a dead connection well before a proxy's idle reset.
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      // etcd's enforcement policy refuses pings with no open stream, and answers repeated ones with GOAWAY.
      'grpc.keepalive_permit_without_calls': 0,
    },
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + callTimeoutMs }),
    faultHandling: {
      // A breaker adds nothing with one member and, with several, the global retry already moves to the next host.
      host: () => policy(async (fn) => await fn({ signal: new AbortController().signal })),
      global: policy(retryUnreachable),
      // Our watches re-create themselves on disconnect (etcd-watch.ts), so this only paces etcd3's own stream retry.
      watchBackoff: exponentialBackoff(100, 1000),
    },
  })
}

/**
 * Retries only "no connection" errors, the one case where the request surely was not applied, so a put or
 * txn is never run twice; deadline and other errors go to the caller as UNAVAILABLE (maybe applied).
 */
async function retryUnreachable<T>(fn: (ctx: { signal: AbortSignal }) => PromiseLike<T> | T): Promise<T> {
  const ctx = { signal: new AbortController().signal }
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(ctx)
    } catch (err) {
      if (attempt >= RETRY_ATTEMPTS || !(err instanceof GRPCUnavailableError)) throw err
      await sleep(50 * 2 ** attempt)
    }
  }
}

/** Wraps an execute function as a cockatiel policy; etcd3 only ever calls `execute`. */
function policy(execute: <T>(fn: (ctx: { signal: AbortSignal }) => PromiseLike<T> | T) => Promise<T>): Policy {
  const noEvents = () => ({ dispose() {} })
  return { _altReturn: undefined as never, onSuccess: noEvents, onFailure: noEvents, execute }
}

function exponentialBackoff(ms: number, maxMs: number): Backoff {
  return { duration: ms, next: () => exponentialBackoff(Math.min(ms * 2, maxMs), maxMs) }
}

/** Maps an etcd3 or gRPC error to a {@link StoreError}; matching etcd's messages is the only way to tell some apart. */
export function toStoreError(err: unknown): StoreError {
  if (err instanceof StoreError) return err
  const message = err instanceof Error ? err.message : String(err)
  const fail = (code: StoreError['code']) => new StoreError(code, message, { cause: err })
  if (err instanceof ClientClosedError) return fail('CLOSED')
  if (err instanceof EtcdLeaseInvalidError) return fail('LEASE_NOT_FOUND')
  if (message.includes('required revision has been compacted')) return fail('COMPACTED')
  if (message.includes('required revision is a future revision')) return fail('FUTURE_REVISION')
  if (message.includes('database space exceeded')) return fail('NO_SPACE')
  if (message.includes('request is too large') || err instanceof GRPCResourceExhastedError) return fail('TOO_LARGE')
  if (err instanceof Error && (isRecoverableError(err) || err.name === 'BrokenCircuitError')) return fail('UNAVAILABLE')
  return fail('INVALID')
}

/** Awaits an etcd3 call, turning its failure into a {@link StoreError}. */
export async function etcdCall<T>(call: Promise<T>): Promise<T> {
  try {
    return await call
  } catch (err) {
    throw toStoreError(err)
  }
}

import type { Config, ServerConfig } from '@fleetgate/schema'
import { configHash } from '@fleetgate/schema/runtime'
import type { Logger } from 'pino'
import { createCertificatePool } from './certificate-pool.ts'
import type { LiveCertificate, LiveCertificateTiming } from './live-certificate.ts'
import { DEFAULT_OCSP_TIMING } from './ocsp-stapler.ts'
import { DEFAULT_WATCH_TIMING, type StopWatching, type WatchTiming, watchPemFiles } from './pem-file-watcher.ts'
import { compileServerTls, isTlsServer } from './server-tls.ts'
import type { CertificateStore, ServerTls } from './types.ts'

/** Options for tests: shorter timers. */
export interface CertificateStoreOptions {
  timing?: Partial<LiveCertificateTiming>
}

/** A certificate a store holds between start() and close(), and whether a server wants it stapled. */
interface Hold {
  cert: LiveCertificate
  stapling: boolean
}

/** A server's `tls_client_ca` file, and how to read it again. */
interface ClientCa {
  file: string | undefined
  reload(): void
}

/** The certificates of each store, so the next store can reuse them. */
const storeCertificates = new WeakMap<CertificateStore, ReadonlyMap<string, LiveCertificate>>()
/** The client CAs of each store, read again when the same config is applied again. */
const storeClientCas = new WeakMap<CertificateStore, readonly ClientCa[]>()

const DAY_MS = 86_400_000

/** The server keys the store depends on: any other server change keeps the same store. */
function tlsKeys(server: ServerConfig): unknown[] {
  const s = server
  return [s.tls_cert, s.tls_key, s.global_certificates, s.certificates, s.tls_min_version, s.tls_max_version].concat([
    s.tls_ciphers,
    s.ocsp_stapling,
    s.tls_client_auth,
    s.tls_client_ca,
  ])
}

/**
 * Builds every certificate and server TLS of a config: PEM read and checked, one SecureContext
 * per certificate and server profile. Certificates unchanged since `previous` (same sources) are
 * reused, contexts and OCSP state included; a config whose TLS part is unchanged gets `previous`
 * itself back. Throws a ConfigValidationError naming the key on an unreadable file, a PEM that
 * does not parse, a key not matching its certificate or an unknown certificate name.
 * start() begins file watching, OCSP and expiry checks; close() ends them (both idempotent).
 */
export function createCertificateStore(
  config: Config,
  previous: CertificateStore | undefined,
  logger: Logger,
  options: CertificateStoreOptions = {},
): CertificateStore {
  const certificates = config.certificates ?? {}
  const hash = configHash({ servers: Object.entries(config.servers).map(([name, s]) => [name, tlsKeys(s)]), certificates })
  const reusable = previous === undefined ? undefined : storeCertificates.get(previous)
  if (previous !== undefined && previous.hash === hash && reusable !== undefined) {
    // Same config, but files may have changed without an event reaching us yet.
    for (const cert of reusable.values()) cert.reload()
    for (const ca of storeClientCas.get(previous) ?? []) ca.reload()
    return previous
  }
  const timing: LiveCertificateTiming = {
    watch: options.timing?.watch ?? DEFAULT_WATCH_TIMING,
    ocsp: options.timing?.ocsp ?? DEFAULT_OCSP_TIMING,
    expiryCheckMs: options.timing?.expiryCheckMs ?? DAY_MS,
  }
  const log = logger.child({ component: 'tls' })
  const pool = createCertificatePool(reusable, log, timing)
  const named = new Map<string, LiveCertificate>()
  for (const [name, cert] of Object.entries(certificates)) {
    const live = pool.named(name, cert)
    if (live !== undefined) named.set(name, live)
  }
  const holds: Hold[] = []
  const clientCas: ClientCa[] = []
  const servers = new Map<string, ServerTls>()
  for (const [name, server] of Object.entries(config.servers)) {
    if (!isTlsServer(server)) continue
    const compiled = compileServerTls(name, server, config, named, pool.own(name, server), log)
    servers.set(name, compiled.tls)
    for (const cert of compiled.certs) holds.push({ cert, stapling: compiled.stapling })
    if (compiled.clientCaFile !== undefined) clientCas.push({ file: compiled.clientCaFile, reload: compiled.reloadClientCa })
  }
  const store = storeOf(hash, servers, holds, clientCas, timing.watch)
  storeCertificates.set(store, pool.used)
  storeClientCas.set(store, clientCas)
  return store
}

function storeOf(
  hash: string,
  servers: ReadonlyMap<string, ServerTls>,
  holds: readonly Hold[],
  clientCas: readonly ClientCa[],
  watchTiming: WatchTiming,
): CertificateStore {
  let state: 'new' | 'started' | 'closed' = 'new'
  const stopWatching: StopWatching[] = []
  return {
    hash,
    forServer: (name) => servers.get(name),
    start() {
      if (state !== 'new') return
      state = 'started'
      for (const hold of holds) hold.cert.retain(hold.stapling)
      // A client CA bundle replaced on disk (a CA rotated in) is read again, like certificates.
      for (const ca of clientCas) if (ca.file !== undefined) stopWatching.push(watchPemFiles([ca.file], ca.reload, watchTiming))
    },
    close() {
      const wasStarted = state === 'started'
      state = 'closed'
      for (const stop of stopWatching.splice(0)) stop()
      if (wasStarted) for (const hold of holds) hold.cert.release(hold.stapling)
    },
  }
}

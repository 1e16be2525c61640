import type { Config, ServerConfig } from '@fleetgate/schema'
import { configHash, isTlsServer } from '@fleetgate/schema/runtime'
import type { Logger } from 'pino'
import { createCertificatePool } from './certificate-pool.ts'
import type { LiveCertificate, LiveCertificateTiming } from './live-certificate.ts'
import { DEFAULT_OCSP_TIMING } from './ocsp-stapler.ts'
import { DEFAULT_WATCH_TIMING, type StopWatching, type WatchTiming, watchPemFiles } from './pem-file-watcher.ts'
import { type ClientCaFile, type CompiledServerTls, compileServerTls } from './server-tls.ts'
import type { CertificateStore, ServerTls } from './types.ts'

/** Options for tests: shorter timers. */
export interface CertificateStoreOptions {
  timing?: Partial<LiveCertificateTiming>
}

/**
 * What each store holds from disk: its certificates, which the next store reuses, and its client
 * CA files; both are read again when the same config is applied again.
 */
const storeFiles = new WeakMap<
  CertificateStore,
  { certificates: ReadonlyMap<string, LiveCertificate>; clientCas: readonly ClientCaFile[] }
>()

const DAY_MS = 86_400_000

/** The certificates a store holds, by reuse key (tests). */
export function storeCertificates(store: CertificateStore): readonly LiveCertificate[] {
  return [...(storeFiles.get(store)?.certificates.values() ?? [])]
}

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
  const files = previous === undefined ? undefined : storeFiles.get(previous)
  if (previous !== undefined && previous.hash === hash && files !== undefined) {
    // Same config, but files may have changed without an event reaching us yet.
    for (const cert of files.certificates.values()) cert.reload()
    for (const ca of files.clientCas) ca.reload()
    return previous
  }
  const timing: LiveCertificateTiming = {
    watch: options.timing?.watch ?? DEFAULT_WATCH_TIMING,
    ocsp: options.timing?.ocsp ?? DEFAULT_OCSP_TIMING,
    expiryCheckMs: options.timing?.expiryCheckMs ?? DAY_MS,
  }
  const log = logger.child({ component: 'tls' })
  const pool = createCertificatePool(files?.certificates, log, timing)
  const named = new Map<string, LiveCertificate>()
  for (const [name, cert] of Object.entries(certificates)) {
    const live = pool.named(name, cert)
    if (live !== undefined) named.set(name, live)
  }
  const compiledServers: CompiledServerTls[] = []
  const clientCas: ClientCaFile[] = []
  const servers = new Map<string, ServerTls>()
  try {
    for (const [name, server] of Object.entries(config.servers)) {
      if (!isTlsServer(server)) continue
      const compiled = compileServerTls(name, server, config, named, pool.own(name, server), log)
      servers.set(name, compiled.tls)
      compiledServers.push(compiled)
      if (compiled.clientCa !== undefined) clientCas.push(compiled.clientCa)
    }
  } catch (err) {
    // A config that fails leaves no contexts behind in the certificates the running store shares.
    for (const compiled of compiledServers) compiled.release()
    throw err
  }
  const store = storeOf(hash, servers, compiledServers, clientCas, timing.watch)
  storeFiles.set(store, { certificates: pool.used, clientCas })
  return store
}

function storeOf(
  hash: string,
  servers: ReadonlyMap<string, ServerTls>,
  compiled: readonly CompiledServerTls[],
  clientCas: readonly ClientCaFile[],
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
      for (const server of compiled) server.hold()
      // A client CA bundle replaced on disk (a CA rotated in) is read again, like certificates.
      for (const ca of clientCas) stopWatching.push(watchPemFiles([ca.path], ca.reload, watchTiming))
    },
    close() {
      state = 'closed'
      for (const stop of stopWatching.splice(0)) stop()
      for (const server of compiled) server.release()
    },
  }
}

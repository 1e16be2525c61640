import type { BlockList } from 'node:net'
import type { Config, LocationConfig, ServerConfig } from '@fleetgate/schema'
import { configHash, parseCidrList, parseDuration, parseListenAddr, parseSize, runSteps, type Steps } from '@fleetgate/schema/runtime'
import type { Logger } from 'pino'
import { builtinRegistry } from './plugins/builtin.ts'
import { compileChain, type PluginChain } from './plugins/chain.ts'
import { abortInstances, createPluginInstances, type PluginInstance } from './plugins/instances.ts'
import type { PluginRegistry } from './plugins/registry.ts'
import { compileHeaderEdits, type HeaderEdits } from './proxy/header-edits.ts'
import { createRouterBuilder } from './router/index.ts'
import type { Router } from './router/types.ts'
import { createCertificateStore } from './tls/certificate-store.ts'
import type { CertificateStore, ServerTls } from './tls/types.ts'
import { createUpstream } from './upstream/index.ts'
import type { Upstream } from './upstream/types.ts'

/** Where a snapshot's config came from and which version it is. */
export interface SnapshotMeta {
  generation: number
  sha256: string
  source: string
}

/** One location, ready for requests: everything derived from its config once. */
export interface LocationRuntime {
  readonly name: string
  readonly config: LocationConfig
  readonly upstream: Upstream | undefined
  readonly requestEdits: HeaderEdits
  readonly responseEdits: HeaderEdits
  /** Largest accepted body in bytes (Infinity when unlimited). */
  readonly maxBodySize: number
  /** The server's global plugins then the location's, by priority; undefined when there are none. */
  readonly plugins: PluginChain | undefined
  /** `websocket_idle_timeout` in ms (0: proxied WebSockets never idle out). */
  readonly websocketIdleTimeoutMs: number
}

/** One `[servers.NAME]`, ready for requests. */
export interface ServerRuntime {
  readonly name: string
  readonly config: ServerConfig
  /** "host:port" this server listens on (after --listen overrides). */
  readonly listenKey: string
  readonly router: Router
  readonly locations: ReadonlyMap<string, LocationRuntime>
  readonly maxHeaders: number
  readonly maxHeaderSize: number
  /** `encoded_slashes = "keep"`: %2F and %5C in a path are data, not refused (see normalize-path.ts). */
  readonly keepEncodedSlashes: boolean
  readonly headerTimeoutMs: number
  readonly requestTimeoutMs: number
  readonly keepAliveTimeoutMs: number
  /** The server's global plugins alone: they run on requests no location matches. */
  readonly plugins: PluginChain | undefined
  /** Certificates and handshake settings; undefined for a plain listener. */
  readonly tls: ServerTls | undefined
}

/**
 * The proxy as a function of one config: routers, upstream pools and everything per-request
 * work needs, built once. Requests read the current snapshot once and keep it.
 */
export interface Snapshot {
  readonly meta: SnapshotMeta
  readonly appliedAt: Date
  readonly config: Config
  readonly serversByListen: ReadonlyMap<string, ServerRuntime>
  readonly upstreams: ReadonlyMap<string, Upstream>
  /** Plugin instances by name; unchanged ones are the previous snapshot's (state kept). */
  readonly plugins: ReadonlyMap<string, PluginInstance>
  /** Every certificate of the config; the previous snapshot's when unchanged. */
  readonly certificates: CertificateStore
  readonly trustedProxies: BlockList | undefined
  readonly via: string | undefined
  readonly gracePeriodMs: number
  /** Requests that started on this snapshot and have not ended. */
  inflight: number
}

/** The outcome of compile: the snapshot and the upstreams it created (not yet started). */
export interface CompileResult {
  snapshot: Snapshot
  created: Upstream[]
  /** Plugin instances created for this snapshot: abort them if it never goes live. */
  createdPlugins: PluginInstance[]
  /** The certificate store when this snapshot built a new one (start it when live, close it if never). */
  createdCertificates: CertificateStore | undefined
}

/** Options that override parts of the config on this node only. */
export interface CompileOptions {
  /** server name -> "host:port" */
  listenOverrides: ReadonlyMap<string, string>
  logger: Logger
  /** Plugin types available; the built-in ones by default. */
  pluginRegistry?: PluginRegistry
}

/**
 * Builds a snapshot from a validated config, reusing `previous`'s upstreams whose config is
 * unchanged (same hash), so their pools, health state and counters survive. Throws on any
 * problem; upstreams created before the throw are closed.
 */
export function compileSnapshot(
  config: Config,
  meta: SnapshotMeta,
  previous: Snapshot | undefined,
  options: CompileOptions,
): CompileResult {
  return runSteps(compileSnapshotSteps(config, meta, previous, options))
}

/** compileSnapshot as steps (see steps.ts): a proxy runs them cooperatively so a big config never stalls requests. */
export function* compileSnapshotSteps(
  config: Config,
  meta: SnapshotMeta,
  previous: Snapshot | undefined,
  options: CompileOptions,
): Steps<CompileResult> {
  const created: Upstream[] = []
  let createdPlugins: PluginInstance[] = []
  let createdCertificates: CertificateStore | undefined
  try {
    const upstreams = new Map<string, Upstream>()
    for (const [name, upstreamConfig] of Object.entries(config.upstreams)) {
      const old = previous?.upstreams.get(name)
      const hash = configHash(upstreamConfig)
      if (old !== undefined && old.hash === hash) upstreams.set(name, old)
      else {
        const fresh = createUpstream(name, upstreamConfig, { logger: options.logger, hash })
        created.push(fresh)
        upstreams.set(name, fresh)
      }
      // Hashing thousands of unchanged upstreams is work too: a chance to yield after each.
      yield
    }
    const registry = options.pluginRegistry ?? builtinRegistry()
    const plugins = createPluginInstances(config.plugins, previous?.plugins, registry, options.logger)
    createdPlugins = plugins.created
    yield
    let certificates = createCertificateStore(config, previous?.certificates, options.logger)
    if (certificates.hash === previous?.certificates.hash) certificates = previous.certificates
    else createdCertificates = certificates
    yield
    const serversByListen = new Map<string, ServerRuntime>()
    for (const [name, serverConfig] of Object.entries(config.servers)) {
      const server: ServerRuntime = yield* compileServer(name, serverConfig, config, upstreams, plugins.instances, certificates, options)
      serversByListen.set(server.listenKey, server)
    }
    const trusted = config.basic.trusted_proxies
    const snapshot: Snapshot = {
      meta,
      appliedAt: new Date(),
      config,
      serversByListen,
      upstreams,
      plugins: plugins.instances,
      certificates,
      trustedProxies: trusted.length > 0 ? parseCidrList(trusted) : undefined,
      via: config.basic.via ? `1.1 ${config.basic.name}` : undefined,
      gracePeriodMs: parseDuration(config.basic.grace_period),
      inflight: 0,
    }
    return { snapshot, created, createdPlugins, createdCertificates }
  } catch (err) {
    for (const upstream of created) void upstream.close()
    abortInstances(createdPlugins)
    createdCertificates?.close()
    throw err
  }
}

/** Locations compiled between two chances to yield. */
const LOCATIONS_PER_STEP = 100

function* compileServer(
  name: string,
  server: ServerConfig,
  config: Config,
  upstreams: ReadonlyMap<string, Upstream>,
  pluginInstances: ReadonlyMap<string, PluginInstance>,
  certificates: CertificateStore,
  options: CompileOptions,
): Steps<ServerRuntime> {
  const addr = parseListenAddr(options.listenOverrides.get(name) ?? server.addr)
  const locations = new Map<string, LocationRuntime>()
  const router = createRouterBuilder()
  for (const locationName of server.locations) {
    const loc = config.locations[locationName] as LocationConfig
    router.add(locationName, loc)
    locations.set(locationName, {
      name: locationName,
      config: loc,
      upstream: loc.upstream === undefined ? undefined : upstreams.get(loc.upstream),
      requestEdits: compileHeaderEdits(loc.headers_add, loc.headers_set, loc.headers_remove),
      responseEdits: compileHeaderEdits(loc.response_headers_add, loc.response_headers_set, loc.response_headers_remove),
      maxBodySize: loc.client_max_body_size === undefined ? Number.POSITIVE_INFINITY : parseSize(loc.client_max_body_size),
      plugins: compileChain([...server.plugins, ...loc.plugins], pluginInstances, options.logger),
      websocketIdleTimeoutMs: parseDuration(loc.websocket_idle_timeout),
    })
    if (locations.size % LOCATIONS_PER_STEP === 0) yield
  }
  return {
    name,
    config: server,
    // Port 0 (tests) binds a fresh port per server, so the key must tell such servers apart.
    listenKey: addr.port === 0 ? `${addr.host}:0/${name}` : `${addr.host}:${addr.port}`,
    router: router.build(),
    locations,
    maxHeaders: server.max_headers,
    maxHeaderSize: parseSize(server.max_header_size),
    keepEncodedSlashes: server.encoded_slashes === 'keep',
    headerTimeoutMs: parseDuration(server.header_timeout),
    requestTimeoutMs: parseDuration(server.request_timeout),
    keepAliveTimeoutMs: parseDuration(server.keepalive_timeout),
    plugins: compileChain(server.plugins, pluginInstances, options.logger),
    tls: certificates.forServer(name),
  }
}

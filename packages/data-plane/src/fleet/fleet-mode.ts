import { hostname } from 'node:os'
import type { NodeStatus } from '@fleetgate/schema'
import type { Store } from '@fleetgate/store'
import type { Logger } from 'pino'
import { Gauge } from 'prom-client'
import { startFleetAcme } from '../acme/fleet-acme.ts'
import type { AcmeModeOptions, NodeAcme } from '../acme/node-acme.ts'
import { createGateway, type Gateway, type GatewayStatus } from '../gateway.ts'
import { createMetrics } from '../metrics.ts'
import { createObservability, type GatewayObservability } from '../observability/observability.ts'
import { createApplyOutcomes } from './apply-outcomes.ts'
import { type CachePurgeSync, startCachePurgeSync } from './cache-purge-sync.ts'
import { applyCachedVersion, saveCachedVersion } from './cached-version.ts'
import { type ConfigSync, type StoreKind, startConfigSync } from './config-sync.ts'
import { createFleetStatusListener, type FleetStatusListener } from './fleet-status-listener.ts'
import { createNodeFigures } from './node-figures.ts'
import { type NodeReporter, startNodeReporter } from './node-reporter.ts'
import { createStoreConnection } from './store-connection.ts'

/** Options of a fleet data plane (`fleetgate proxy --etcd`, or in-process on a local store). */
export interface FleetModeOptions {
  /** The config store, already scoped to the cluster's prefix; the caller closes it after stop(). */
  store: Store
  /** etcd (default), or standalone's local store: what `/status` says the config came from. */
  storeKind?: StoreKind
  /** This node's id in `nodes/<id>`; stable across restarts (a per-boot uuid tells boots apart). */
  nodeId: string
  logger: Logger
  /** Last applied config, written after every apply and served at start when the store is down. */
  cacheFile?: string
  /** HOST:PORT of /livez, /readyz, /status, /metrics; default: `[metrics] addr` of the first applied config. */
  statusAddr?: string
  /** server name -> "host:port", overriding `[servers.NAME] addr` on this node. */
  listenOverrides?: ReadonlyMap<string, string>
  /** Where the node serves, for people, in `nodes/<id>`; default: the host name. */
  address?: string
  /** Anti-entropy re-read of `current`; default 30 s (±20% jitter). */
  pollIntervalMs?: number
  /** Rewrite of `nodes/<id>` when nothing changed; default 30 s. */
  heartbeatIntervalMs?: number
  /** TTL of the node's lease; default 15 s. */
  leaseTtlSeconds?: number
  /** ACME certificates (orders coordinated through the store); on by default. */
  acme?: AcmeModeOptions
  /** Bearer tokens of the status listener's `/debug/*` profiling endpoints; none: those are 404. */
  debugTokens?: readonly string[]
}

/** What `/status` shows in fleet mode. */
export type FleetStatus = GatewayStatus & {
  /** Whether etcd answered the last call; null on a local store (standalone). */
  etcdConnected: boolean | null
  node: NodeStatus
}

/** A running fleet data plane. */
export interface FleetModeProxy {
  readonly gateway: Gateway
  readonly nodeId: string
  /** The status listener's port, once it is open. */
  readonly statusPort: number | undefined
  status(): FleetStatus
  /** Re-reads `current` now and retries a rejected generation (SIGHUP). */
  refresh(): Promise<void>
  /** Stops syncing, revokes the node lease (the node leaves the fleet view), drains and closes. */
  stop(): Promise<void>
}

/**
 * Starts a fleet data plane: serves the cache file if it is valid, then follows `current` in the
 * store (see config-sync.ts) and reports ACK/NACK in `nodes/<id>`. Resolves once the first read of
 * `current` was attempted; it never fails because the store is down.
 */
export async function startFleetMode(o: FleetModeOptions): Promise<FleetModeProxy> {
  const { logger } = o
  const storeKind = o.storeKind ?? 'etcd'
  const metrics = createMetrics()
  const storeGauge = new Gauge({
    name: 'fleetgate_store_connected',
    help: 'Whether the config store answered the last call (1) or not (0)',
    registers: [metrics.registry],
  })
  const observability = createObservability({ logger, registry: metrics.registry, gateway: () => gateway })
  const acme = startFleetAcme(o.store, logger, o.acme)
  const gateway: Gateway = createGateway({
    logger,
    observability,
    acmeChallenge: acme.lookup,
    ...(o.listenOverrides ? { listenOverrides: o.listenOverrides } : {}),
  })
  const connection = createStoreConnection(logger, storeGauge)
  const reporter = startNodeReporter({
    store: o.store,
    nodeId: o.nodeId,
    address: o.address ?? hostname(),
    logger,
    connection,
    leaseTtlSeconds: o.leaseTtlSeconds ?? 15,
    heartbeatMs: o.heartbeatIntervalMs ?? 30_000,
    figures: createNodeFigures({ totals: () => observability.totals(), activeRequests: () => gateway.activeRequests() }),
  })
  let sync: ConfigSync | undefined
  const status = (): FleetStatus => ({
    ...gateway.status(),
    lastError: sync?.lastError ?? gateway.status().lastError,
    etcdConnected: storeKind === 'local' ? null : connection.connected,
    node: reporter.status(),
  })
  const listener = createFleetStatusListener(o.statusAddr, gateway, metrics, status, logger, o.debugTokens)
  try {
    await listener.open()
  } catch (err) {
    await reporter.stop()
    await acme.stop()
    throw err
  }
  const outcomes = createApplyOutcomes(metrics, reporter)
  const initial = o.cacheFile ? await applyCachedVersion(o.cacheFile, gateway, logger) : undefined
  if (initial) {
    outcomes.applied(initial.version, initial.seconds)
    acme.check(initial.version.config)
  }
  await listener.open()
  sync = await startConfigSync({
    store: o.store,
    storeKind,
    gateway,
    connection,
    logger,
    pollIntervalMs: o.pollIntervalMs ?? 30_000,
    ...(initial ? { initial: initial.version } : {}),
    onApplied: async (version, seconds) => {
      outcomes.applied(version, seconds)
      acme.check(version.config)
      await listener.open()
      if (o.cacheFile) await saveCachedVersion(o.cacheFile, version, logger)
    },
    onRejected: (pointer, error) => outcomes.rejected(pointer, error),
    onRecovered: () => outcomes.recovered(),
  })
  const purges = await startCachePurgeSync({ store: o.store, gateway, logger })
  return runningProxy(o.nodeId, gateway, sync, purges, reporter, listener, status, observability, acme)
}

function runningProxy(
  nodeId: string,
  gateway: Gateway,
  sync: ConfigSync,
  purges: CachePurgeSync,
  reporter: NodeReporter,
  listener: FleetStatusListener,
  status: () => FleetStatus,
  observability: GatewayObservability,
  acme: NodeAcme,
): FleetModeProxy {
  return {
    gateway,
    nodeId,
    get statusPort() {
      return listener.port()
    },
    status,
    refresh: () => sync.refresh({ retryRejected: true }),
    async stop() {
      await sync.stop()
      await purges.stop()
      await acme.stop()
      await reporter.stop()
      await gateway.shutdown()
      await observability.close()
      listener.close()
    },
  }
}

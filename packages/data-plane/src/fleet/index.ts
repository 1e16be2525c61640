import type { EtcdFleetModeOptions } from './etcd-fleet-mode.ts'
import type { FleetModeOptions, FleetModeProxy } from './fleet-mode.ts'

export type { ConfigCacheEntry, LoadedCache } from './config-cache.ts'
export type { EtcdFleetModeOptions } from './etcd-fleet-mode.ts'
export type { FleetModeOptions, FleetModeProxy, FleetStatus } from './fleet-mode.ts'

// Fleet mode loads on first use: the store client (etcd3, gRPC) costs about 200 ms of start-up that a
// file-mode proxy, which imports this package too, must not pay.

/** Starts a fleet data plane on an injected store; see fleet-mode.ts. */
export async function startFleetMode(options: FleetModeOptions): Promise<FleetModeProxy> {
  return await (await import('./fleet-mode.ts')).startFleetMode(options)
}

/** Starts a fleet data plane on etcd (`fleetgate proxy --etcd`); see etcd-fleet-mode.ts. */
export async function startEtcdFleetMode(options: EtcdFleetModeOptions): Promise<FleetModeProxy> {
  return await (await import('./etcd-fleet-mode.ts')).startEtcdFleetMode(options)
}

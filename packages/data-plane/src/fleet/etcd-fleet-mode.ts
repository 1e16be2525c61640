import { storeKeys } from '@fleetgate/schema/runtime'
import { createEtcdStore, type EtcdClientOptions } from '@fleetgate/store'
import { type FleetModeOptions, type FleetModeProxy, startFleetMode } from './fleet-mode.ts'

/** Options of {@link startEtcdFleetMode}: fleet mode with the store made from etcd endpoints and a cluster. */
export interface EtcdFleetModeOptions extends Omit<FleetModeOptions, 'store'> {
  /** Every etcd member's client URL. */
  endpoints: string[]
  /** Cluster name: keys live under /fleetgate/<cluster>/. */
  cluster: string
  /** etcd user/password and TLS, when the etcd cluster requires them. */
  etcdAuth?: EtcdClientOptions['auth']
  etcdTls?: EtcdClientOptions['tls']
}

const CLUSTER_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/

/** Starts fleet mode on etcd (`fleetgate proxy --etcd`); stop() also closes the etcd client. */
export async function startEtcdFleetMode(o: EtcdFleetModeOptions): Promise<FleetModeProxy> {
  const { endpoints, cluster, etcdAuth, etcdTls, ...rest } = o
  if (endpoints.length === 0) throw new Error('--etcd needs at least one endpoint URL')
  if (!CLUSTER_PATTERN.test(cluster)) throw new Error(`invalid cluster name "${cluster}" (letters, digits, "_", ".", "-")`)
  const store = createEtcdStore({
    endpoints,
    prefix: storeKeys.prefix(cluster),
    ...(etcdAuth === undefined ? {} : { auth: etcdAuth }),
    ...(etcdTls === undefined ? {} : { tls: etcdTls }),
  })
  let proxy: FleetModeProxy
  try {
    proxy = await startFleetMode({ ...rest, store })
  } catch (err) {
    await store.close()
    throw err
  }
  return {
    gateway: proxy.gateway,
    nodeId: proxy.nodeId,
    get statusPort() {
      return proxy.statusPort
    },
    status: () => proxy.status(),
    refresh: () => proxy.refresh(),
    async stop() {
      try {
        await proxy.stop()
      } finally {
        await store.close()
      }
    },
  }
}

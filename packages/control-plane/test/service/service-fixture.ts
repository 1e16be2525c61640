import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { storeKeys } from '@fleetgate/schema'
import { createEtcdStore, createLocalStore, type Store } from '@fleetgate/store'
import { startEtcd, type TestEtcd } from '@fleetgate/testkit'
import { type ConfigServiceOptions, createConfigService } from '../../src/config-service.ts'
import type { ConfigService } from '../../src/service-types.ts'

/** One keyspace of one backend, with the service under test on it. */
export interface Opened {
  store: Store
  service: ConfigService
  /** Writes a key behind the service's back: etcdctl on etcd, a direct put on the local store. */
  sidePut(key: string, value: string): Promise<void>
  /** Another store client on the same keyspace (etcd: a second connection; local: the same store). */
  openPeer(): Promise<Store>
  close(): Promise<void>
}

/** A store implementation the service tests run against. */
export interface Backend {
  name: 'local' | 'etcd'
  setup(): Promise<void>
  teardown(): Promise<void>
  /** A fresh keyspace with a service on it (`start()` not called). */
  open(options?: ConfigServiceOptions): Promise<Opened>
  /** The etcd under test (etcd backend only). */
  readonly etcd?: TestEtcd
}

let spaces = 0

function localBackend(): Backend {
  let root = ''
  return {
    name: 'local',
    async setup() {
      root = await mkdtemp(join(tmpdir(), 'fleetgate-cp-service-'))
    },
    teardown: () => rm(root, { recursive: true, force: true }),
    async open(options = {}) {
      const store = await createLocalStore({ dir: join(root, `space-${++spaces}`) })
      const service = createConfigService(store, options)
      return {
        store,
        service,
        sidePut: async (key, value) => void (await store.put(key, value)),
        openPeer: async () => store,
        async close() {
          await service.close()
          await store.close()
        },
      }
    },
  }
}

function etcdBackend(): Backend {
  let etcd: TestEtcd | undefined
  const backend: Backend = {
    name: 'etcd',
    get etcd() {
      return etcd
    },
    async setup() {
      etcd = await startEtcd()
    },
    teardown: async () => await etcd?.stop(),
    async open(options = {}) {
      const server = etcd as TestEtcd
      const prefix = storeKeys.prefix(`test-${process.pid}-${++spaces}`)
      const connect = () => createEtcdStore({ endpoints: [server.endpoint], prefix, callTimeoutMs: 5000 })
      const store = connect()
      const service = createConfigService(store, options)
      const peers: Store[] = []
      return {
        store,
        service,
        sidePut: async (key, value) => void (await server.etcdctl(['put', `${prefix}${key}`, value])),
        openPeer: async () => {
          const peer = connect()
          peers.push(peer)
          return peer
        },
        async close() {
          await service.close()
          await Promise.all([store, ...peers].map((s) => s.close()))
        },
      }
    },
  }
  return backend
}

/** Both stores: every behaviour that does not need a server runs on each. */
export function backends(): Backend[] {
  return [localBackend(), etcdBackend()]
}

/** Runs `fn` with a fresh keyspace and always closes it. */
export async function withService(backend: Backend, options: ConfigServiceOptions, fn: (opened: Opened) => Promise<void>): Promise<void> {
  const opened = await backend.open(options)
  try {
    await fn(opened)
  } finally {
    await opened.close()
  }
}

/** A small valid config: one upstream, one location on it, one server serving the location. */
export function sampleConfig(): Record<string, Record<string, unknown>> {
  return {
    basic: { name: 'edge' },
    upstreams: { api: { addrs: ['127.0.0.1:8001'] } },
    locations: { api: { upstream: 'api', path: '/api' } },
    servers: { main: { addr: '127.0.0.1:8080', locations: ['api'] } },
  }
}

/** The standard author of test writes. */
export const ADMIN = { author: 'admin:test' }

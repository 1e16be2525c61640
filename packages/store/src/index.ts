export { createEtcdStore, type EtcdStoreOptions } from './etcd-store.ts'
export { createLocalStore, type LocalStoreOptions } from './local-store.ts'
export * from './store.ts'
export * from './store-error.ts'

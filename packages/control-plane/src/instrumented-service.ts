import type { ControlPlaneMetrics, PublishResultLabel, PublishSource } from './control-plane-metrics.ts'
import { type ConfigService, type PublishResult, ServiceError } from './service-types.ts'

/**
 * The service as the admin API uses it, with every call counted in `metrics`: writes, restores and
 * releases are publishes from the API, rollbacks their own source; a store outage on any call is a
 * store error. Publishes of etcdctl edits are counted by the service itself (its `onEditPublish`).
 */
export function instrumentService(service: ConfigService, metrics: ControlPlaneMetrics): ConfigService {
  const storeErrors = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call()
    } catch (err) {
      if (err instanceof ServiceError && err.code === 'STORE_UNAVAILABLE') metrics.recordStoreError()
      throw err
    }
  }
  const publish = async (source: PublishSource, call: () => Promise<PublishResult>): Promise<PublishResult> => {
    const started = performance.now()
    const seconds = () => (performance.now() - started) / 1000
    try {
      const result = await call()
      metrics.recordPublish(source, result.published ? 'ok' : result.held && source !== 'rollback' ? 'held' : 'unchanged', seconds())
      return result
    } catch (err) {
      const label = errorLabel(err)
      if (label !== undefined) metrics.recordPublish(source, label, seconds())
      if (err instanceof ServiceError && err.code === 'STORE_UNAVAILABLE') metrics.recordStoreError()
      throw err
    }
  }
  return {
    getDesired: () => storeErrors(() => service.getDesired()),
    putDesired: (config, options) => publish('api', () => service.putDesired(config, options)),
    getResource: (kind, name) => storeErrors(() => service.getResource(kind, name)),
    putResource: (kind, name, value, options) => publish('api', () => service.putResource(kind, name, value, options)),
    deleteResource: (kind, name, options) => publish('api', () => service.deleteResource(kind, name, options)),
    validate(config) {
      const result = service.validate(config)
      if (!result.ok) metrics.recordValidationFailure()
      return result
    },
    publishStatus: () => storeErrors(() => service.publishStatus()),
    reportImport: (errors) => service.reportImport(errors),
    listVersions: () => storeErrors(() => service.listVersions()),
    getVersion: (generation) => storeErrors(() => service.getVersion(generation)),
    diff: (from, to) => storeErrors(() => service.diff(from, to)),
    rollback: (generation, author) => publish('rollback', () => service.rollback(generation, author)),
    restore: (generation, author) => publish('api', () => service.restore(generation, author)),
    release: (author) => publish('api', () => service.release(author)),
    fleet: () => storeErrors(() => service.fleet()),
    start: () => service.start(),
    close: () => service.close(),
  }
}

/** The result label of a failed publish call; undefined for refusals that are no publish (412, 404, 409). */
function errorLabel(err: unknown): PublishResultLabel | undefined {
  if (!(err instanceof ServiceError)) return 'error'
  if (err.code === 'INVALID') return 'rejected'
  if (err.code === 'STORE_UNAVAILABLE' || err.code === 'PUBLISH_FAILED' || err.code === 'CORRUPT_RECORD') return 'error'
  return undefined
}

import { isStoreError } from '@fleetgate/store'
import { ServiceError } from './service-types.ts'

/**
 * Runs a service call and turns store failures into the service's codes: an unreachable, closed or
 * full store is STORE_UNAVAILABLE (503; writes are not queued), a value over the request limit is
 * INVALID. Anything else (ServiceError included) passes through unchanged.
 */
export async function withStoreFailures<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    throw asServiceError(err)
  }
}

/** The ServiceError a store failure maps to, or `err` itself. */
export function asServiceError(err: unknown): unknown {
  if (isStoreError(err, 'TOO_LARGE')) {
    return new ServiceError('INVALID', 'the change is too large for one store request', [{ path: '', message: err.message }], {
      cause: err,
    })
  }
  if (isStoreError(err) && err.code !== 'INVALID' && err.code !== 'FUTURE_REVISION') {
    return new ServiceError('STORE_UNAVAILABLE', `config store unavailable: ${err.message}`, [], { cause: err })
  }
  return err
}

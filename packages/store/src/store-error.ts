/**
 * Why a store call failed. Callers branch on these codes, never on messages:
 * - COMPACTED: the requested revision's history was compacted; re-read at the latest revision.
 * - FUTURE_REVISION: a read asked for a revision the store has not reached.
 * - TOO_LARGE: a request or a single response is over the size limits; chunk the data.
 * - NO_SPACE: the store is out of quota (etcd NOSPACE alarm); needs compaction and defrag.
 * - INVALID: the request itself is wrong (duplicate key in a txn, too many ops, bad TTL).
 * - LEASE_NOT_FOUND: the lease expired or was revoked.
 * - LOCKED: another process owns the local store folder.
 * - UNAVAILABLE: the store could not be reached or did not answer in time; the call may or may not have
 *   been applied.
 * - CLOSED: the store was closed.
 */
export type StoreErrorCode =
  | 'COMPACTED'
  | 'FUTURE_REVISION'
  | 'TOO_LARGE'
  | 'NO_SPACE'
  | 'INVALID'
  | 'LEASE_NOT_FOUND'
  | 'LOCKED'
  | 'UNAVAILABLE'
  | 'CLOSED'

/** An error from a {@link Store}, with a stable code and the underlying error as `cause`. */
export class StoreError extends Error {
  readonly code: StoreErrorCode
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'StoreError'
    this.code = code
  }
}

/** True when `err` is a {@link StoreError} with `code`. */
export function isStoreError(err: unknown, code?: StoreErrorCode): err is StoreError {
  return err instanceof StoreError && (code === undefined || err.code === code)
}

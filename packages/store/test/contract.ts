import type { StoreFixture } from './contract-fixture.ts'
import { kvContract } from './contract-kv.ts'
import { leaseContract } from './contract-lease.ts'
import { watchContract } from './contract-watch.ts'

export type { OpenedStore, SideChannel, StoreFixture } from './contract-fixture.ts'

/**
 * The one suite every Store implementation must pass. Call it inside a `describe` of the implementation's
 * test file with a fixture that opens a fresh store per test.
 */
export function storeContract(fixture: StoreFixture): void {
  kvContract(fixture)
  watchContract(fixture)
  leaseContract(fixture)
}

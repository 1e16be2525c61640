import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { waitFor } from '@fleetgate/testkit'
import { isStoreError } from '../src/index.ts'
import { type StoreFixture, withStore } from './contract-fixture.ts'

/** Leases (revoke, expiry, keep-alive, re-grant after loss) and the lease-based lock. */
export function leaseContract(fixture: StoreFixture): void {
  const ttl = fixture.shortTtl

  test('deletes a lease’s keys when the lease is revoked', () =>
    withStore(fixture, async ({ store }) => {
      const lease = await store.lease(ttl)
      await lease.put('node/a', 'up')
      await store.put('plain', 'stays')
      assert.equal((await store.get('node/a'))?.value.toString(), 'up')
      await lease.revoke()
      assert.equal(await store.get('node/a'), undefined)
      assert.equal((await store.get('plain'))?.value.toString(), 'stays')
    }))

  test('keeps a lease’s keys while it is kept alive, and drops them once released and expired', () =>
    withStore(fixture, async ({ store }) => {
      const lease = await store.lease(ttl)
      await lease.put('node/a', 'up')
      await sleep(ttl * 2500)
      assert.equal((await store.get('node/a'))?.value.toString(), 'up', 'keep-alives kept the key past two TTLs')
      lease.release()
      await waitFor('the key to expire', async () => (await store.get('node/a')) === undefined, ttl * 1000 + 5000)
    }))

  test('refuses a put attached to an unknown lease with LEASE_NOT_FOUND', () =>
    withStore(fixture, async ({ store }) => {
      await assert.rejects(store.put('k', 'v', { lease: '123456789' }), (err) => isStoreError(err, 'LEASE_NOT_FOUND'))
    }))

  test('grants a new lease and puts its keys again after the lease is lost', () =>
    withStore(fixture, async (opened) => {
      const { store } = opened
      const lease = await store.lease(ttl)
      const firstId = lease.id
      let lost = 0
      let regranted: string | undefined
      lease.on('lost', () => void lost++)
      lease.on('regranted', (id) => {
        regranted = id
      })
      await lease.put('node/a', 'me')
      await opened.loseLeases(ttl)
      const newId = await waitFor('a re-grant', () => regranted, 15_000)
      assert.equal(lost, 1)
      assert.notEqual(newId, firstId)
      assert.equal(lease.id, newId)
      assert.equal((await store.get('node/a'))?.value.toString(), 'me')
      // The key now hangs on the new lease: revoking it removes the key.
      await lease.revoke()
      assert.equal(await store.get('node/a'), undefined)
    }))

  test('keeps a second lock holder waiting until the first releases', () =>
    withStore(fixture, async ({ store }) => {
      const first = await store.lock('control/publisher', ttl)
      let secondHeld = false
      const second = store.lock('control/publisher', ttl).then((lock) => {
        secondHeld = true
        return lock
      })
      await sleep(700)
      assert.equal(secondHeld, false)
      await first.release()
      assert.equal(first.signal.aborted, true)
      await waitFor('the second holder to get the lock', () => secondHeld)
      const lock = await second
      assert.ok(lock.revision > first.revision)
      assert.equal(lock.signal.aborted, false)
      await lock.release()
    }))

  test('stops waiting for a lock when the caller aborts', () =>
    withStore(fixture, async ({ store }) => {
      const held = await store.lock('control/publisher', ttl)
      await assert.rejects(store.lock('control/publisher', ttl, { signal: AbortSignal.timeout(300) }), { name: 'TimeoutError' })
      await held.release()
    }))
}

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { type CurrentPointer, storeKeys } from '@fleetgate/schema'
import type { Store } from '@fleetgate/store'
import { waitFor } from '@fleetgate/testkit'
import { ServiceError } from '../../src/service-types.ts'
import { ADMIN, backends, sampleConfig, withService } from './service-fixture.ts'

const DEBOUNCE_MS = 100

async function currentGen(store: Store): Promise<number> {
  return (JSON.parse(String((await store.get(storeKeys.current))?.value)) as CurrentPointer).gen
}

for (const backend of backends()) {
  describe(`config service rollback (${backend.name} store)`, () => {
    before(() => backend.setup())
    after(() => backend.teardown())

    test('rollback publishes the old content as a new generation and holds publishing', async () => {
      await withService(backend, {}, async ({ store, service }) => {
        const v1 = await service.putDesired(sampleConfig(), ADMIN)
        await service.putResource('upstreams', 'bad', { addrs: ['127.0.0.1:1'] }, ADMIN)
        const result = await service.rollback(1, 'admin:ops')
        assert.deepEqual(result, { generation: 3, sha256: v1.sha256, published: true, held: true })
        const [latest] = (await service.listVersions()).versions
        assert.deepEqual([latest?.generation, latest?.parent, latest?.rollbackOf, latest?.author], [3, 2, 1, 'admin:ops'])
        const blobs = await store.getPrefix('blobs/')
        assert.equal(new Set(blobs.kvs.map((kv) => kv.key.split('/')[1])).size, 2, 'the old blobs are reused')
        const status = await service.publishStatus()
        assert.deepEqual([status.state, status.generation, status.held], ['ok', 3, true])
        await assert.rejects(service.rollback(42, 'admin:ops'), (e) => e instanceof ServiceError && e.code === 'NOT_FOUND')
      })
    })

    test('while held, API writes go to desired/ but are not published, and etcdctl edits neither', async () => {
      await withService(backend, { debounceMs: DEBOUNCE_MS }, async ({ store, service, sidePut }) => {
        await service.putDesired(sampleConfig(), ADMIN)
        await service.putResource('upstreams', 'bad', { addrs: ['127.0.0.1:1'] }, ADMIN)
        const rolled = await service.rollback(1, 'admin:ops')
        await service.start()
        const write = await service.putResource('upstreams', 'held', { addrs: ['127.0.0.1:2'] }, ADMIN)
        assert.deepEqual(write, { generation: 3, sha256: rolled.sha256, published: false, held: true })
        assert.ok(await store.get('desired/upstreams/held'))
        await sidePut('desired/upstreams/side', '{"addrs":["127.0.0.1:3"]}')
        await sleep(DEBOUNCE_MS * 4)
        assert.equal(await currentGen(store), 3)
        assert.equal((await service.listVersions()).versions.length, 3)
      })
    })

    test('restore writes the old content into desired/, releases the hold and publishes nothing new when equal', async () => {
      await withService(backend, {}, async ({ store, service }) => {
        await service.putDesired(sampleConfig(), ADMIN)
        await service.putResource('upstreams', 'bad', { addrs: ['127.0.0.1:1'] }, ADMIN)
        await service.rollback(1, 'admin:ops')
        const restored = await service.restore(1, 'admin:ops')
        assert.deepEqual([restored.generation, restored.published, restored.held], [3, false, false])
        assert.equal(await store.get('desired/upstreams/bad'), undefined)
        assert.equal((await service.publishStatus()).held, false)
        const next = await service.putResource('upstreams', 'after', { addrs: ['127.0.0.1:4'] }, ADMIN)
        assert.deepEqual([next.generation, next.published, next.held], [4, true, false])
      })
    })

    test('restore of a generation other than the current one publishes it and releases the hold', async () => {
      await withService(backend, {}, async ({ service }) => {
        await service.putDesired(sampleConfig(), ADMIN)
        await service.putResource('upstreams', 'two', { addrs: ['127.0.0.1:2'] }, ADMIN)
        await service.putResource('upstreams', 'three', { addrs: ['127.0.0.1:3'] }, ADMIN)
        await service.rollback(1, 'admin:ops')
        const restored = await service.restore(2, 'admin:ops')
        assert.deepEqual([restored.generation, restored.published, restored.held], [5, true, false])
        assert.equal((await service.listVersions()).versions[0]?.sha256, (await service.getVersion(2)).version.sha256)
        assert.deepEqual(Object.keys((await service.getDesired()).value.upstreams as object).sort(), ['api', 'two'])
      })
    })

    test('release publishes desired/ when it differs and lets etcdctl edits through again', async () => {
      await withService(backend, { debounceMs: DEBOUNCE_MS }, async ({ store, service, sidePut }) => {
        await service.putDesired(sampleConfig(), ADMIN)
        await service.putResource('upstreams', 'bad', { addrs: ['127.0.0.1:1'] }, ADMIN)
        await service.rollback(1, 'admin:ops')
        const released = await service.release('admin:ops')
        assert.deepEqual([released.generation, released.published, released.held], [4, true, false])
        assert.equal((await service.listVersions()).versions[0]?.sha256, (await service.getVersion(2)).version.sha256)
        await service.start()
        await sidePut('desired/upstreams/side', '{"addrs":["127.0.0.1:3"]}')
        await waitFor('generation 5', async () => (await currentGen(store)) === 5, 5000)
      })
    })

    test('release keeps the hold and reports INVALID while desired/ is invalid', async () => {
      await withService(backend, {}, async ({ service, sidePut }) => {
        await service.putDesired(sampleConfig(), ADMIN)
        await service.rollback(1, 'admin:ops')
        await sidePut('desired/locations/api', '{"upstream":"gone","path":"/api"}')
        await assert.rejects(service.release('admin:ops'), (e) => e instanceof ServiceError && e.code === 'INVALID')
        const status = await service.publishStatus()
        assert.deepEqual([status.state, status.held], ['rejected', true])
      })
    })
  })
}

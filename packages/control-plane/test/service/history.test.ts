import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { storeKeys } from '@fleetgate/schema'
import type { Store } from '@fleetgate/store'
import { ServiceError } from '../../src/service-types.ts'
import { ADMIN, backends, sampleConfig, withService } from './service-fixture.ts'

/** Publishes `count` versions, each adding upstream `u<i>`. */
async function publishMany(service: Parameters<Parameters<typeof withService>[2]>[0]['service'], count: number) {
  await service.putDesired(sampleConfig(), { ...ADMIN, message: 'v1' })
  for (let i = 2; i <= count; i++) {
    await service.putResource('upstreams', `u${i}`, { addrs: [`127.0.0.1:${9000 + i}`] }, { ...ADMIN, message: `v${i}` })
  }
}

async function blobShas(store: Store): Promise<string[]> {
  const read = await store.getPrefix('blobs/')
  return [...new Set(read.kvs.map((kv) => kv.key.split('/')[1] as string))].sort()
}

for (const backend of backends()) {
  describe(`config service history (${backend.name} store)`, () => {
    before(() => backend.setup())
    after(() => backend.teardown())

    test('lists versions newest first with parent, author and message', async () => {
      await withService(backend, {}, async ({ service }) => {
        await publishMany(service, 3)
        const versions = (await service.listVersions()).versions
        assert.deepEqual(
          versions.map((v) => [v.generation, v.parent, v.rollbackOf, v.author, v.message]),
          [
            [3, 2, null, 'admin:test', 'v3'],
            [2, 1, null, 'admin:test', 'v2'],
            [1, null, null, 'admin:test', 'v1'],
          ],
        )
        assert.equal(new Set(versions.map((v) => v.sha256)).size, 3)
        assert.ok(versions.every((v) => !Number.isNaN(Date.parse(v.createdAt))))
      })
    })

    test('getVersion returns the summary and the decoded config; an unknown generation is NOT_FOUND', async () => {
      await withService(backend, {}, async ({ service }) => {
        await publishMany(service, 2)
        const { version, config } = await service.getVersion(1)
        assert.equal(version.generation, 1)
        assert.deepEqual(Object.keys(config.upstreams as object), ['api'])
        assert.equal((config.upstreams as Record<string, { algorithm: string }>).api?.algorithm, 'round_robin', 'defaults applied')
        await assert.rejects(service.getVersion(9), (e) => e instanceof ServiceError && e.code === 'NOT_FOUND')
      })
    })

    test('keeps the newest N versions and deletes the blobs only they referenced', async () => {
      await withService(backend, { keepVersions: 3 }, async ({ store, service }) => {
        await publishMany(service, 6)
        const versions = (await service.listVersions()).versions
        assert.deepEqual(
          versions.map((v) => v.generation),
          [6, 5, 4],
        )
        assert.deepEqual(await blobShas(store), versions.map((v) => v.sha256).sort())
        await assert.rejects(
          service.getVersion(1),
          (e) =>
            e instanceof ServiceError &&
            e.code === 'NOT_FOUND' &&
            /generation 1 was pruned by retention .*oldest kept is 4/.test(e.message),
        )
        await assert.rejects(
          service.getVersion(9),
          (e) => e instanceof ServiceError && e.code === 'NOT_FOUND' && e.message === 'generation 9 not found',
        )
        assert.equal((await service.putResource('upstreams', 'u7', { addrs: ['127.0.0.1:1'] }, ADMIN)).generation, 7)
      })
    })

    test('never prunes the rollback source of the current version', async () => {
      await withService(backend, { keepVersions: 2 }, async ({ service }) => {
        await publishMany(service, 3)
        assert.deepEqual(
          (await service.listVersions()).versions.map((v) => v.generation),
          [3, 2],
        )
        await service.rollback(2, 'admin:test')
        await service.restore(2, 'admin:test')
        const versions = (await service.listVersions()).versions
        assert.deepEqual(
          versions.map((v) => [v.generation, v.rollbackOf]),
          [
            [4, 2],
            [3, null],
            [2, null],
          ],
        )
        assert.equal((await service.publishStatus()).held, false)
      })
    })

    test('deletes a blob set no manifest references once it has been seen so for the grace period', async () => {
      let now = Date.parse('2025-01-01T00:00:00Z')
      const orphan = storeKeys.blob('f'.repeat(64), 0)
      await withService(backend, { blobGraceMs: 60_000, now: () => new Date(now) }, async ({ store, service }) => {
        await store.put(orphan, 'left by a crashed publish')
        await service.putDesired(sampleConfig(), ADMIN)
        assert.ok(await store.get(orphan), 'first seen unreferenced: kept')
        now += 30_000
        await service.putResource('upstreams', 'a', { addrs: ['127.0.0.1:1'] }, ADMIN)
        assert.ok(await store.get(orphan), 'still within the grace period')
        now += 31_000
        await service.putResource('upstreams', 'b', { addrs: ['127.0.0.1:2'] }, ADMIN)
        assert.equal(await store.get(orphan), undefined)
        assert.equal((await blobShas(store)).length, 3, 'the published versions keep their blobs')
      })
    })

    test('diff lists added, removed and changed resources with the changed keys', async () => {
      await withService(backend, {}, async ({ service }) => {
        await service.putDesired(sampleConfig(), ADMIN)
        const next = sampleConfig()
        next.basic = { name: 'edge-2' }
        next.upstreams = {
          api: { addrs: ['127.0.0.1:8001', '127.0.0.1:8002'], algorithm: 'least_conn' },
          extra: { addrs: ['127.0.0.1:1'] },
        }
        await service.putDesired(next, ADMIN)
        assert.deepEqual(await service.diff(1, 2), {
          from: 1,
          to: 2,
          added: [{ kind: 'upstreams', name: 'extra' }],
          removed: [],
          changed: [
            { kind: 'basic', keys: ['name'] },
            { kind: 'upstreams', name: 'api', keys: ['addrs', 'algorithm'] },
          ],
        })
        assert.deepEqual((await service.diff(2, 1)).removed, [{ kind: 'upstreams', name: 'extra' }])
      })
    })
  })
}

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { storeKeys } from '@fleetgate/schema'
import { waitFor } from '@fleetgate/testkit'
import type { ConfigServiceOptions } from '../../src/config-service.ts'
import { ServiceError } from '../../src/service-types.ts'
import { ADMIN, backends, type Opened, sampleConfig, withService } from './service-fixture.ts'

/** Publishes generations 1..count, each adding upstream `u<i>`. */
async function publishMany({ service }: Opened, count: number): Promise<void> {
  await service.putDesired(sampleConfig(), { ...ADMIN, message: 'v1' })
  for (let i = 2; i <= count; i++) {
    await service.putResource('upstreams', `u${i}`, { addrs: [`127.0.0.1:${9000 + i}`] }, { ...ADMIN, message: `v${i}` })
  }
}

const isCorrupt = (key: string) => (e: unknown) =>
  e instanceof ServiceError && e.code === 'CORRUPT_RECORD' && e.status === 500 && e.message.includes(key) && e.errors[0]?.path === key

for (const backend of backends()) {
  describe(`corrupt stored records (${backend.name} store)`, () => {
    before(() => backend.setup())
    after(() => backend.teardown())

    test('a garbage manifest of an old generation blocks nothing and is named wherever it is needed', async () => {
      await withService(backend, {}, async (opened) => {
        const { service } = opened
        await publishMany(opened, 3)
        const key = storeKeys.version(2)
        await opened.sidePut(key, 'garbage{')
        const put = await service.putResource('upstreams', 'u4', { addrs: ['127.0.0.1:9004'] }, { ...ADMIN, message: 'v4' })
        assert.deepEqual([put.generation, put.published], [4, true])
        const history = await service.listVersions()
        assert.deepEqual(
          history.versions.map((v) => v.generation),
          [4, 3, 1],
        )
        assert.deepEqual(
          history.unreadable.map((u) => u.path),
          [key],
        )
        assert.match(history.unreadable[0]?.message ?? '', /not JSON/)
        await assert.rejects(service.getVersion(2), isCorrupt(key))
        await assert.rejects(service.diff(1, 2), isCorrupt(key))
        await assert.rejects(service.rollback(2, 'admin:test'), isCorrupt(key))
        await assert.rejects(service.restore(2, 'admin:test'), isCorrupt(key))
        assert.equal((await service.rollback(1, 'admin:test')).generation, 5)
        assert.deepEqual((await service.publishStatus()).problems, [])
      })
    })

    test('an etcdctl edit is auto-published past a garbage manifest and a garbage current', async () => {
      await withService(backend, { debounceMs: 20 }, async (opened) => {
        const { service } = opened
        await publishMany(opened, 2)
        await opened.sidePut(storeKeys.version(1), 'garbage{')
        await opened.sidePut(storeKeys.current, 'garbage{')
        await service.start()
        await opened.sidePut(storeKeys.desired('upstreams', 'side'), 'addrs = ["127.0.0.1:9100"]')
        await waitFor('generation 3', async () => (await service.publishStatus()).generation === 3, 5000)
        const v3 = await service.getVersion(3)
        assert.deepEqual([v3.version.parent, v3.version.author], [2, 'etcdctl'])
        assert.deepEqual((await service.publishStatus()).problems, [])
      })
    })

    test('a manifest of the wrong shape ({}) is listed as unreadable, never as an empty entry', async () => {
      await withService(backend, {}, async (opened) => {
        await publishMany(opened, 2)
        await opened.sidePut(storeKeys.version(1), '{}')
        const history = await opened.service.listVersions()
        assert.deepEqual(
          history.versions.map((v) => v.generation),
          [2],
        )
        assert.deepEqual(
          history.unreadable.map((u) => u.path),
          [storeKeys.version(1)],
        )
        assert.match(history.unreadable[0]?.message ?? '', /gen must be/)
      })
    })

    test('an unreadable newest manifest still gets a generation above it', async () => {
      await withService(backend, {}, async (opened) => {
        await publishMany(opened, 2)
        await opened.sidePut(storeKeys.version(2), 'garbage{')
        const put = await opened.service.putResource('upstreams', 'u9', { addrs: ['127.0.0.1:9009'] }, ADMIN)
        assert.deepEqual([put.generation, put.published], [3, true])
        assert.equal((await opened.service.getVersion(3)).version.parent, 2)
      })
    })

    test('a garbage current is reported by GET /publish and repaired by the next publish', async () => {
      await withService(backend, {}, async (opened) => {
        const { service, store } = opened
        await publishMany(opened, 2)
        await opened.sidePut(storeKeys.current, 'garbage{')
        const status = await service.publishStatus()
        assert.equal(status.generation, null)
        assert.deepEqual(
          status.problems.map((p) => p.path),
          [storeKeys.current],
        )
        const put = await service.putResource('upstreams', 'u3', { addrs: ['127.0.0.1:9003'] }, { ...ADMIN, message: 'v3' })
        assert.deepEqual([put.generation, put.published], [3, true])
        const v3 = await service.getVersion(3)
        assert.deepEqual([v3.version.parent, v3.version.author, v3.version.message], [2, 'admin:test', 'v3'])
        const current = JSON.parse(((await store.get(storeKeys.current))?.value ?? '').toString())
        assert.deepEqual(current, { gen: 3, sha256: v3.version.sha256 })
        const after = await service.publishStatus()
        assert.deepEqual([after.generation, after.problems], [3, []])
      })
    })

    test('a current of the wrong shape counts as unreadable too, and an unchanged tree is published over it', async () => {
      await withService(backend, {}, async (opened) => {
        const { service } = opened
        await publishMany(opened, 1)
        await opened.sidePut(storeKeys.current, '{"gen":"one"}')
        assert.match((await service.publishStatus()).problems[0]?.message ?? '', /gen must be a positive integer/)
        const release = await service.release('admin:test')
        assert.deepEqual([release.generation, release.published], [2, true])
      })
    })

    test('a garbage control/publish is reported, not a 500, and the next publish rewrites it', async () => {
      await withService(backend, {}, async (opened) => {
        const { service } = opened
        await publishMany(opened, 1)
        await opened.sidePut(storeKeys.publishStatus, 'garbage{')
        const status = await service.publishStatus()
        assert.deepEqual([status.state, status.generation], ['ok', 1])
        assert.deepEqual(
          status.problems.map((p) => p.path),
          [storeKeys.publishStatus],
        )
        await service.putResource('upstreams', 'u2', { addrs: ['127.0.0.1:9002'] }, ADMIN)
        assert.deepEqual((await service.publishStatus()).problems, [])
      })
    })

    test('a deleted manifest between the oldest and the newest is missing, not pruned by retention', async () => {
      await withService(backend, {}, async (opened) => {
        await publishMany(opened, 3)
        await opened.store.delete(storeKeys.version(2))
        await assert.rejects(opened.service.rollback(2, 'admin:test'), (e) => {
          assert.ok(e instanceof ServiceError && e.code === 'NOT_FOUND')
          assert.doesNotMatch(e.message, /pruned/)
          assert.match(e.message, /manifest versions\/0+2 is missing/)
          return true
        })
      })
    })

    test('retention deletes unreadable manifests once they fall below the kept history, and logs each key', async () => {
      const warnings: Array<{ key: string; problem: string; msg: string }> = []
      const logger = { warn: (obj: { key: string; problem: string }, msg: string) => warnings.push({ ...obj, msg }), info: () => {} }
      const options = { keepVersions: 2, logger: logger as unknown as ConfigServiceOptions['logger'] }
      await withService(backend, options, async (opened) => {
        const { service, store } = opened
        const generations = async () => {
          const history = await service.listVersions()
          return { readable: history.versions.map((v) => v.generation), unreadable: history.unreadable.map((u) => u.path) }
        }
        const putUpstream = (i: number) => service.putResource('upstreams', `u${i}`, { addrs: [`127.0.0.1:${9000 + i}`] }, ADMIN)
        await publishMany(opened, 3)
        await opened.sidePut(storeKeys.version(2), 'garbage{')
        // Generation 2 is unreadable and now below the two newest readable manifests (3, 4): deleted.
        assert.equal((await putUpstream(4)).generation, 4)
        assert.deepEqual(await generations(), { readable: [4, 3], unreadable: [] })
        assert.equal(await store.get(storeKeys.version(2)), undefined)
        assert.deepEqual(
          warnings.map((w) => w.key),
          [storeKeys.version(2)],
        )
        assert.match(warnings[0]?.problem ?? '', /not JSON/)
        assert.match(warnings[0]?.msg ?? '', /retention deleted an unreadable version manifest/)
        // The current generation's manifest turns unreadable: inside the window it stays, listed.
        await opened.sidePut(storeKeys.version(4), '{}')
        assert.equal((await putUpstream(5)).generation, 5)
        assert.deepEqual(await generations(), { readable: [5, 3], unreadable: [storeKeys.version(4)] })
        assert.equal(warnings.length, 1)
        // One more publish moves the window past it.
        assert.equal((await putUpstream(6)).generation, 6)
        assert.deepEqual(await generations(), { readable: [6, 5], unreadable: [] })
        assert.deepEqual(
          warnings.map((w) => w.key),
          [storeKeys.version(2), storeKeys.version(4)],
        )
        await assert.rejects(service.getVersion(4), (e) => e instanceof ServiceError && /was pruned by retention/.test(e.message))
        assert.deepEqual((await service.publishStatus()).problems, [])
      })
    })

    test('the whole-tree read lists an undecodable desired/ key, and a PUT of that read does not delete it', async () => {
      await withService(backend, {}, async (opened) => {
        const { service, store } = opened
        await publishMany(opened, 1)
        const key = storeKeys.desired('upstreams', 'be2')
        await opened.sidePut(key, 'addrs = ["127.0.0.1:27002"')
        const read = await service.getDesired()
        assert.deepEqual(
          read.unreadable?.map((u) => u.path),
          [key],
        )
        assert.match(read.unreadable?.[0]?.message ?? '', /cannot parse/)
        await assert.rejects(service.putDesired(read.value, { ...ADMIN, ifMatch: read.etag }), (e) => {
          assert.ok(e instanceof ServiceError && e.code === 'CONFLICT')
          assert.match(e.message, /desired\/upstreams\/be2/)
          assert.deepEqual(
            e.errors.map((x) => x.path),
            [key],
          )
          return true
        })
        assert.equal((await store.get(key))?.value.toString(), 'addrs = ["127.0.0.1:27002"', 'the value is kept')
        const withValue = structuredClone(read.value) as { upstreams: Record<string, unknown> }
        withValue.upstreams.be2 = { addrs: ['127.0.0.1:27002'] }
        assert.equal((await service.putDesired(withValue, { ...ADMIN, ifMatch: read.etag })).published, true)
        assert.deepEqual((await service.getDesired()).unreadable, [])
      })
    })
  })
}

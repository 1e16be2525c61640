import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { type CurrentPointer, decodeConfigBlob, storeKeys, type VersionManifest, validateConfig } from '@fleetgate/schema'
import { ServiceError } from '../../src/service-types.ts'
import { ADMIN, backends, sampleConfig, withService } from './service-fixture.ts'

const isCode = (code: ServiceError['code']) => (err: unknown) => err instanceof ServiceError && err.code === code

for (const backend of backends()) {
  describe(`config service publishing (${backend.name} store)`, () => {
    before(() => backend.setup())
    after(() => backend.teardown())

    test('publishes a valid tree as generation 1 with verifiable blobs and a current pointer', async () => {
      await withService(backend, {}, async ({ store, service }) => {
        const result = await service.putDesired(sampleConfig(), { ...ADMIN, message: 'first' })
        assert.deepEqual({ ...result, sha256: typeof result.sha256 }, { generation: 1, sha256: 'string', published: true, held: false })
        const pointer = JSON.parse(String((await store.get(storeKeys.current))?.value)) as CurrentPointer
        assert.deepEqual(pointer, { gen: 1, sha256: result.sha256 })
        const manifest = JSON.parse(String((await store.get(storeKeys.version(1)))?.value)) as VersionManifest
        assert.equal(manifest.parent, null)
        assert.equal(manifest.author, 'admin:test')
        assert.equal(manifest.message, 'first')
        const chunks = (await store.getPrefix(storeKeys.blobPrefix(result.sha256))).kvs.map((kv) => kv.value)
        assert.equal(chunks.length, manifest.chunks)
        const expected = validateConfig(sampleConfig())
        assert.ok(expected.ok)
        assert.deepEqual(decodeConfigBlob(chunks, result.sha256), JSON.parse(JSON.stringify(expected.config)))
        assert.equal((await service.publishStatus()).state, 'ok')
      })
    })

    test('an unchanged tree publishes nothing', async () => {
      await withService(backend, {}, async ({ service }) => {
        const first = await service.putDesired(sampleConfig(), ADMIN)
        const again = await service.putDesired(sampleConfig(), ADMIN)
        assert.deepEqual(again, { ...first, published: false })
        assert.equal((await service.listVersions()).versions.length, 1)
      })
    })

    test('refuses an invalid tree with every error and leaves desired and current as they were', async () => {
      await withService(backend, {}, async ({ store, service }) => {
        await service.putDesired(sampleConfig(), ADMIN)
        const before = await service.getDesired()
        const bad = sampleConfig()
        bad.locations = { api: { upstream: 'apii', path: '/api' } }
        bad.servers = { main: { addr: '127.0.0.1:8080', locations: ['api', 'nope'] } }
        const err = await service.putDesired(bad, ADMIN).catch((e: unknown) => e)
        assert.ok(isCode('INVALID')(err))
        assert.deepEqual(
          (err as ServiceError).errors.map((e) => e.path),
          ['locations.api.upstream', 'servers.main.locations.1'],
        )
        assert.equal((await service.getDesired()).etag, before.etag)
        assert.equal(JSON.parse(String((await store.get(storeKeys.current))?.value)).gen, 1)
      })
    })

    test('replacing the tree deletes resources no longer present', async () => {
      await withService(backend, {}, async ({ store, service }) => {
        const config = sampleConfig()
        config.upstreams = { ...config.upstreams, spare: { addrs: ['127.0.0.1:9'] } }
        await service.putDesired(config, ADMIN)
        assert.ok(await store.get('desired/upstreams/spare'))
        const result = await service.putDesired(sampleConfig(), ADMIN)
        assert.equal(result.generation, 2)
        assert.equal(await store.get('desired/upstreams/spare'), undefined)
        assert.deepEqual(Object.keys((await service.getDesired()).value.upstreams as object), ['api'])
      })
    })

    test('putResource publishes the new resource and getResource returns it with its mod revision as ETag', async () => {
      await withService(backend, {}, async ({ store, service }) => {
        await service.putDesired(sampleConfig(), ADMIN)
        const result = await service.putResource('upstreams', 'extra', { addrs: ['127.0.0.1:8100'] }, ADMIN)
        assert.deepEqual([result.generation, result.published], [2, true])
        const got = await service.getResource('upstreams', 'extra')
        assert.deepEqual(got.value, { addrs: ['127.0.0.1:8100'] })
        assert.equal(got.etag, String((await store.get('desired/upstreams/extra'))?.modRevision))
        const basic = await service.getResource('basic', undefined)
        assert.deepEqual(basic.value, { name: 'edge' })
      })
    })

    test('a stale If-Match fails with PRECONDITION_FAILED and a fresh one succeeds', async () => {
      await withService(backend, {}, async ({ service }) => {
        await service.putDesired(sampleConfig(), ADMIN)
        const seen = await service.getResource('upstreams', 'api')
        const tree = await service.getDesired()
        await service.putResource('upstreams', 'api', { addrs: ['127.0.0.1:8002'] }, ADMIN)
        await assert.rejects(
          service.putResource('upstreams', 'api', { addrs: ['127.0.0.1:8003'] }, { ...ADMIN, ifMatch: seen.etag }),
          isCode('PRECONDITION_FAILED'),
        )
        await assert.rejects(
          service.deleteResource('upstreams', 'api', { ...ADMIN, ifMatch: `"${seen.etag}"` }),
          isCode('PRECONDITION_FAILED'),
        )
        await assert.rejects(service.putDesired(sampleConfig(), { ...ADMIN, ifMatch: tree.etag }), isCode('PRECONDITION_FAILED'))
        const fresh = await service.getResource('upstreams', 'api')
        const ok = await service.putResource('upstreams', 'api', { addrs: ['127.0.0.1:8003'] }, { ...ADMIN, ifMatch: fresh.etag })
        assert.equal(ok.generation, 3)
        const freshTree = await service.getDesired()
        assert.equal((await service.putDesired(sampleConfig(), { ...ADMIN, ifMatch: `"${freshTree.etag}"` })).generation, 4)
      })
    })

    test('deleting a referenced resource fails with CONFLICT naming every referrer', async () => {
      await withService(backend, {}, async ({ service }) => {
        await service.putDesired(sampleConfig(), ADMIN)
        const upstream = await service.deleteResource('upstreams', 'api', ADMIN).catch((e: unknown) => e)
        assert.ok(isCode('CONFLICT')(upstream))
        assert.match((upstream as Error).message, /locations\.api\.upstream/)
        const location = await service.deleteResource('locations', 'api', ADMIN).catch((e: unknown) => e)
        assert.ok(isCode('CONFLICT')(location))
        assert.deepEqual(
          (location as ServiceError).errors.map((e) => e.path),
          ['servers.main.locations'],
        )
        assert.equal((await service.listVersions()).versions.length, 1)
        await assert.rejects(service.deleteResource('upstreams', 'ghost', ADMIN), isCode('NOT_FOUND'))
      })
    })

    test('deleting an unreferenced resource publishes the tree without it', async () => {
      await withService(backend, {}, async ({ service }) => {
        await service.putDesired(sampleConfig(), ADMIN)
        await service.putResource('upstreams', 'spare', { addrs: ['127.0.0.1:9'] }, ADMIN)
        const result = await service.deleteResource('upstreams', 'spare', ADMIN)
        assert.equal(result.generation, 3)
        await assert.rejects(service.getResource('upstreams', 'spare'), isCode('NOT_FOUND'))
        assert.equal((await service.listVersions()).versions[0]?.sha256, (await service.listVersions()).versions[2]?.sha256)
      })
    })

    test('a write whose resulting tree is invalid is refused and writes nothing', async () => {
      await withService(backend, {}, async ({ store, service }) => {
        await service.putDesired(sampleConfig(), ADMIN)
        const err = await service.putResource('locations', 'bad', { upstream: 'missing', path: '/x' }, ADMIN).catch((e: unknown) => e)
        assert.ok(isCode('INVALID')(err))
        assert.deepEqual(
          (err as ServiceError).errors.map((e) => e.path),
          ['locations.bad.upstream'],
        )
        assert.equal(await store.get('desired/locations/bad'), undefined)
        await assert.rejects(service.putResource('locations', 'a/b', { path: '/' }, ADMIN), isCode('INVALID'))
        await assert.rejects(service.putResource('routes' as 'locations', 'x', {}, ADMIN), isCode('NOT_FOUND'))
      })
    })

    test('an undecodable key in desired/ is an error of every write, never silently dropped', async () => {
      await withService(backend, {}, async ({ service, sidePut }) => {
        await service.putDesired(sampleConfig(), ADMIN)
        await sidePut('desired/upstreams/broken', 'addrs = [')
        const err = await service.putResource('upstreams', 'fine', { addrs: ['127.0.0.1:1'] }, ADMIN).catch((e: unknown) => e)
        assert.ok(isCode('INVALID')(err))
        assert.equal((err as ServiceError).errors[0]?.path, 'upstreams.broken')
        // A whole-tree write does not delete it behind the operator's back; a DELETE of the resource does.
        await assert.rejects(service.putDesired(sampleConfig(), ADMIN), isCode('CONFLICT'))
        await service.deleteResource('upstreams', 'broken', ADMIN)
        await assert.rejects(service.getResource('upstreams', 'broken'), isCode('NOT_FOUND'))
        assert.equal((await service.putDesired(sampleConfig(), ADMIN)).published, false)
      })
    })
  })
}

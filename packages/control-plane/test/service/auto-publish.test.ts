import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { encodeResource } from '@fleetgate/schema'
import { waitFor } from '@fleetgate/testkit'
import { ADMIN, backends, sampleConfig, withService } from './service-fixture.ts'

const DEBOUNCE_MS = 150

for (const backend of backends()) {
  describe(`config service auto-publish of desired/ edits (${backend.name} store)`, () => {
    before(() => backend.setup())
    after(() => backend.teardown())

    test('publishes a valid edit made behind the API after the debounce', async () => {
      await withService(backend, { debounceMs: DEBOUNCE_MS }, async ({ service, sidePut }) => {
        await service.putDesired(sampleConfig(), ADMIN)
        await service.start()
        await sidePut('desired/upstreams/side', encodeResource({ addrs: ['127.0.0.1:8200'] }))
        await waitFor('generation 2', async () => (await service.listVersions()).versions.length === 2, 5000)
        const [latest] = (await service.listVersions()).versions
        assert.equal(latest?.author, 'etcdctl')
        assert.equal(latest?.parent, 1)
        const { config } = await service.getVersion(2)
        assert.deepEqual((config.upstreams as Record<string, { addrs: string[] }>).side?.addrs, ['127.0.0.1:8200'])
      })
    })

    test('a burst of edits within the debounce publishes one generation', async () => {
      await withService(backend, { debounceMs: 300 }, async ({ service, sidePut }) => {
        await service.putDesired(sampleConfig(), ADMIN)
        await service.start()
        for (let i = 0; i < 4; i++) await sidePut(`desired/upstreams/u${i}`, `{"addrs":["127.0.0.1:${9000 + i}"]}`)
        await waitFor('generation 2', async () => (await service.listVersions()).versions.length === 2, 5000)
        await sleep(600)
        assert.equal((await service.listVersions()).versions.length, 2)
        const { config } = await service.getVersion(2)
        assert.deepEqual(Object.keys(config.upstreams as object).sort(), ['api', 'u0', 'u1', 'u2', 'u3'])
      })
    })

    test('refuses an invalid edit, shows its errors in publishStatus, and publishes once fixed', async () => {
      await withService(backend, { debounceMs: DEBOUNCE_MS }, async ({ service, sidePut }) => {
        await service.putDesired(sampleConfig(), ADMIN)
        await service.start()
        await sidePut('desired/locations/bad', '{"upstream":"nowhere","path":"/bad"}')
        await sidePut('desired/upstreams/garbled', 'addrs = [')
        await waitFor('rejected status', async () => (await service.publishStatus()).state === 'rejected', 5000)
        const status = await service.publishStatus()
        assert.equal(status.generation, 1)
        assert.equal(status.held, false)
        assert.deepEqual(
          status.errors.map((e) => e.path),
          ['locations.bad.upstream', 'upstreams.garbled'],
        )
        assert.equal((await service.listVersions()).versions.length, 1)
        await sidePut('desired/upstreams/garbled', '{"addrs":["127.0.0.1:7"]}')
        await sidePut('desired/locations/bad', '{"upstream":"garbled","path":"/bad"}')
        await waitFor('ok status', async () => (await service.publishStatus()).state === 'ok', 5000)
        assert.deepEqual(await service.publishStatus().then((s) => [s.generation, s.errors]), [2, []])
      })
    })

    test('publishes edits made while no service was watching when it starts', async () => {
      await withService(backend, { debounceMs: DEBOUNCE_MS }, async ({ service, sidePut }) => {
        await service.putDesired(sampleConfig(), ADMIN)
        await sidePut('desired/upstreams/offline', '{"addrs":["127.0.0.1:8300"]}')
        await sleep(DEBOUNCE_MS * 2)
        assert.equal((await service.listVersions()).versions.length, 1, 'nothing is published before start()')
        await service.start()
        await waitFor('generation 2', async () => (await service.listVersions()).versions.length === 2, 5000)
      })
    })

    test('does not publish a wiped desired/ from a watch event', async () => {
      await withService(backend, { debounceMs: DEBOUNCE_MS }, async ({ store, service }) => {
        await service.putDesired(sampleConfig(), ADMIN)
        await service.start()
        await store.deletePrefix('desired/')
        await waitFor('rejected status', async () => (await service.publishStatus()).state === 'rejected', 5000)
        assert.match((await service.publishStatus()).errors[0]?.message ?? '', /desired\/ is empty/)
        assert.equal((await service.listVersions()).versions.length, 1)
      })
    })
  })
}

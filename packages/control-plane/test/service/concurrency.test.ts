import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { createEtcdStore, type Store } from '@fleetgate/store'
import { freePort } from '@fleetgate/testkit'
import { createConfigService } from '../../src/config-service.ts'
import { type PublishResult, ServiceError } from '../../src/service-types.ts'
import { ADMIN, backends, sampleConfig, withService } from './service-fixture.ts'

const etcd = backends().find((b) => b.name === 'etcd')
if (!etcd) throw new Error('no etcd backend')

describe('config service on a shared etcd', () => {
  before(() => etcd.setup())
  after(() => etcd.teardown())

  test('two services publishing concurrently never lose or duplicate a generation', async () => {
    await withService(etcd, {}, async ({ service, openPeer }) => {
      await service.putDesired(sampleConfig(), ADMIN)
      const peer: Store = await openPeer()
      const other = createConfigService(peer)
      try {
        const writes = (svc: typeof service, who: string) =>
          Array.from({ length: 8 }, (_, i) => svc.putResource('upstreams', `${who}${i}`, { addrs: [`127.0.0.1:${2000 + i}`] }, ADMIN))
        const results: PublishResult[] = await Promise.all([...writes(service, 'a'), ...writes(other, 'b')])
        const gens = results.map((r) => r.generation).sort((x, y) => x - y)
        assert.deepEqual(
          gens,
          Array.from({ length: 16 }, (_, i) => i + 2),
          'each write published its own generation',
        )
        const versions = (await service.listVersions()).versions
        assert.deepEqual(
          versions.map((v) => v.generation),
          Array.from({ length: 17 }, (_, i) => 17 - i),
        )
        assert.ok(versions.every((v) => v.parent === (v.generation === 1 ? null : v.generation - 1)))
        const { config } = await service.getVersion(17)
        assert.equal(Object.keys(config.upstreams as object).length, 17, 'the last version holds every write')
      } finally {
        await other.close()
      }
    })
  })

  test('two services reacting to the same etcdctl edit publish it once', async () => {
    await withService(etcd, { debounceMs: 50 }, async ({ service, openPeer, sidePut }) => {
      await service.putDesired(sampleConfig(), ADMIN)
      const other = createConfigService(await openPeer(), { debounceMs: 50 })
      try {
        await Promise.all([service.start(), other.start()])
        await sidePut('desired/upstreams/side', '{"addrs":["127.0.0.1:3"]}')
        const deadline = Date.now() + 5000
        while ((await service.listVersions()).versions.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
        await new Promise((r) => setTimeout(r, 400))
        assert.deepEqual(
          (await service.listVersions()).versions.map((v) => v.generation),
          [2, 1],
        )
      } finally {
        await other.close()
      }
    })
  })

  test('an unreachable store fails calls with STORE_UNAVAILABLE', async () => {
    const store = createEtcdStore({ endpoints: [`http://127.0.0.1:${await freePort()}`], prefix: '/fleetgate/none/', callTimeoutMs: 500 })
    const service = createConfigService(store)
    try {
      const isUnavailable = (e: unknown) => e instanceof ServiceError && e.code === 'STORE_UNAVAILABLE' && e.status === 503
      await assert.rejects(service.getDesired(), isUnavailable)
      await assert.rejects(service.putDesired(sampleConfig(), ADMIN), isUnavailable)
      await assert.rejects(service.listVersions(), isUnavailable)
    } finally {
      await service.close()
      await store.close()
    }
  })
})

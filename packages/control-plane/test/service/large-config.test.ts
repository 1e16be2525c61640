import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { MAX_TXN_OPS } from '@fleetgate/store'
import { ADMIN, backends, withService } from './service-fixture.ts'

/**
 * etcd takes the full 10,000. The local store fsyncs every key file it writes, so a first write of
 * 10,000 keys costs it 10-20 s of disk time on a busy CI box; 2,000 keys still span many txns there.
 */
const LOCATIONS = { etcd: 10_000, local: 2_000 } as const

/** A config with `count` locations on one upstream, all served by one server. */
function largeConfig(count: number): Record<string, Record<string, unknown>> {
  const locations: Record<string, unknown> = {}
  for (let i = 0; i < count; i++) {
    locations[`loc${i}`] = { upstream: 'api', host: `h${i % 50}.example.com`, path: `/svc/${i}/`, headers_add: [`X-Loc:${i}`] }
  }
  return {
    basic: { name: 'large' },
    upstreams: { api: { addrs: ['127.0.0.1:8001', '127.0.0.1:8002'] } },
    locations,
    servers: { main: { addr: '127.0.0.1:8080', locations: Object.keys(locations) } },
  }
}

for (const backend of backends()) {
  describe(`config service with a large config (${backend.name} store)`, () => {
    before(() => backend.setup())
    after(() => backend.teardown())

    const count = LOCATIONS[backend.name]
    test(`publishes ${count} locations through putDesired and reads them back`, async (t) => {
      await withService(backend, {}, async ({ store, service }) => {
        const config = largeConfig(count)
        let started = performance.now()
        const result = await service.putDesired(config, ADMIN)
        const publishMs = performance.now() - started
        assert.deepEqual([result.generation, result.published], [1, true])
        assert.ok((await store.getPrefix('desired/locations/')).kvs.length === count)
        assert.ok(count > MAX_TXN_OPS * 10, 'the changeset spans many txns')

        started = performance.now()
        const desired = await service.getDesired()
        assert.deepEqual(desired.value, config)
        const { version, config: published } = await service.getVersion(1)
        const readMs = performance.now() - started
        assert.equal(version.sha256, result.sha256)
        assert.equal(Object.keys(published.locations as object).length, count)

        started = performance.now()
        const one = await service.putResource('locations', 'loc42', { upstream: 'api', path: '/changed/' }, ADMIN)
        const oneMs = performance.now() - started
        assert.equal(one.generation, 2)
        assert.deepEqual((await service.diff(1, 2)).changed, [{ kind: 'locations', name: 'loc42', keys: ['headers_add', 'host', 'path'] }])
        t.diagnostic(
          `${backend.name}: putDesired of ${count} locations ${publishMs.toFixed(0)} ms, read back ${readMs.toFixed(0)} ms, ` +
            `one-resource write + publish ${oneMs.toFixed(0)} ms`,
        )
      })
    })
  })
}

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { parseToml, storeKeys } from '@fleetgate/schema'
import { createEtcdStore, type Store } from '@fleetgate/store'
import { startEtcd, type TestEtcd, waitFor } from '@fleetgate/testkit'
import pino from 'pino'
import { type ControlPlane, startControlPlane } from '../../src/index.ts'
import { ADMIN, BASE_TOML } from './api-fixture.ts'

describe('admin API on etcd', () => {
  let etcd: TestEtcd
  let store: Store
  let cp: ControlPlane
  const call = (method: string, path: string, body?: string, headers: Record<string, string> = {}) =>
    fetch(`${cp.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/toml' }), ...headers },
      body,
      signal: AbortSignal.timeout(15_000),
    })

  before(async () => {
    etcd = await startEtcd()
    store = createEtcdStore({ endpoints: [etcd.endpoint], prefix: storeKeys.prefix('api-test'), callTimeoutMs: 1000 })
    cp = await startControlPlane({
      store,
      listen: '127.0.0.1:0',
      tokens: { admin: [ADMIN], readonly: [] },
      logger: pino({ level: 'silent' }),
    })
  })
  after(async () => {
    await cp?.close()
    await store?.close()
    await etcd?.stop()
  })

  test('a TOML PUT lands in etcd under desired/ and comes back from GET', async () => {
    const put = await call('PUT', '/api/v1/config', BASE_TOML)
    assert.equal(put.status, 200)
    const { generation } = (await put.json()) as { generation: number }
    assert.equal(generation, 1)
    const keys = await etcd.etcdctl(['get', '--prefix', '--keys-only', '/fleetgate/api-test/'])
    assert.match(keys, /\/fleetgate\/api-test\/desired\/upstreams\/api/)
    assert.match(keys, /\/fleetgate\/api-test\/current/)
    const get = await call('GET', '/api/v1/config', undefined, { accept: 'application/toml' })
    const back = parseToml(await get.text())
    const sent = parseToml(BASE_TOML)
    assert.ok(back.ok && sent.ok)
    assert.deepEqual(back.value, sent.value)
  })

  test('rollback publishes a new generation and the fleet has no nodes', async () => {
    assert.equal((await call('PUT', '/api/v1/upstreams/api', '[upstreams.api]\naddrs = ["127.0.0.1:8009"]\n')).status, 200)
    const rollback = await call('POST', '/api/v1/rollback', JSON.stringify({ to: 1 }), { 'content-type': 'application/json' })
    assert.equal(rollback.status, 200)
    const result = (await rollback.json()) as { generation: number; held: boolean }
    assert.equal(result.generation, 3)
    assert.equal(result.held, true)
    const current = JSON.parse(await etcd.etcdctl(['get', '--print-value-only', '/fleetgate/api-test/current']))
    assert.equal(current.gen, 3)
    const fleet = (await (await call('GET', '/api/v1/fleet')).json()) as {
      nodes: unknown[]
      summary: { nodes: { total: number }; reporting: number }
    }
    assert.deepEqual(fleet.nodes, [])
    assert.equal(fleet.summary.nodes.total, 0)
    assert.equal(fleet.summary.reporting, 0)
  })

  test('/readyz answers 503 while etcd is unreachable and 200 again after', async () => {
    assert.equal((await fetch(`${cp.url}/readyz`)).status, 200)
    await etcd.whileUnreachable(async () => {
      const res = await fetch(`${cp.url}/readyz`, { signal: AbortSignal.timeout(10_000) })
      assert.equal(res.status, 503)
      assert.equal((await fetch(`${cp.url}/livez`)).status, 200)
    })
    await waitFor('readyz 200', async () => (await fetch(`${cp.url}/readyz`)).status === 200, 15_000, 200)
  })
})

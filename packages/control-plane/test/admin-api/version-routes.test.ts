import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { parseToml } from '@fleetgate/schema'
import { waitFor } from '@fleetgate/testkit'
import { BASE_TOML, startTestApi, type TestApi } from './api-fixture.ts'

const CHANGED_TOML = `${BASE_TOML.replace('127.0.0.1:8001', '127.0.0.1:8002')}
[upstreams.web]
addrs = ["127.0.0.1:9000"]
`

describe('admin API history, rollback and fleet', () => {
  let api: TestApi
  let first: number
  let second: number
  before(async () => {
    api = await startTestApi()
    first = (await api.json('PUT', '/api/v1/config', { body: BASE_TOML })).body.generation
    second = (await api.json('PUT', '/api/v1/config?message=add%20web', { body: CHANGED_TOML })).body.generation
  })
  after(async () => await api.close())

  test('GET /versions lists the history newest first with the documented fields', async () => {
    const { status, body } = await api.json('GET', '/api/v1/versions')
    assert.equal(status, 200)
    assert.deepEqual(
      body.versions.map((v: { generation: number }) => v.generation),
      [second, first],
    )
    const [latest] = body.versions
    for (const key of ['generation', 'parent', 'rollbackOf', 'author', 'message', 'createdAt', 'sha256']) assert.ok(key in latest, key)
    assert.equal(latest.parent, first)
    assert.equal(latest.rollbackOf, null)
    assert.equal(latest.message, 'add web')
    assert.equal((await api.json('GET', '/api/v1/versions?limit=1')).body.versions.length, 1)
  })

  test('GET /versions/{gen} returns the summary and the config, or the config alone as TOML', async () => {
    const { status, body } = await api.json('GET', `/api/v1/versions/${first}`)
    assert.equal(status, 200)
    assert.equal(body.generation, first)
    assert.deepEqual(body.config.upstreams.api.addrs, ['127.0.0.1:8001'])
    const toml = await api.call('GET', `/api/v1/versions/${second}`, { headers: { accept: 'application/toml' } })
    const parsed = parseToml(await toml.text())
    assert.ok(parsed.ok)
    assert.ok((parsed.value.upstreams as Record<string, unknown>).web)
  })

  test('GET /versions/{a}/diff/{b} lists added, removed and changed resources with the changed keys', async () => {
    const { status, body } = await api.json('GET', `/api/v1/versions/${first}/diff/${second}`)
    assert.equal(status, 200)
    assert.deepEqual(body.added, [{ kind: 'upstreams', name: 'web' }])
    assert.deepEqual(body.removed, [])
    assert.deepEqual(body.changed, [{ kind: 'upstreams', name: 'api', keys: ['addrs'] }])
    const back = (await api.json('GET', `/api/v1/versions/${second}/diff/${first}`)).body
    assert.deepEqual(back.removed, [{ kind: 'upstreams', name: 'web' }])
  })

  test('a non-numeric generation is a 400 and a missing one a 404', async () => {
    for (const path of [
      '/api/v1/versions/abc',
      '/api/v1/versions/1.5',
      `/api/v1/versions/${first}/diff/x`,
      '/api/v1/versions/-1/restore',
    ]) {
      const res = await api.json(path.endsWith('restore') ? 'POST' : 'GET', path)
      assert.equal(res.status, 400, path)
      assert.match(res.body.message, /generation number/)
    }
    assert.equal((await api.call('GET', '/api/v1/versions/999')).status, 404)
    assert.equal((await api.call('GET', `/api/v1/versions/${first}/diff/999`)).status, 404)
  })

  test('POST /rollback refuses a malformed body with 400 and an unknown generation with 404', async () => {
    for (const body of [{}, { to: 'one' }, { to: -1 }, { to: 1.5 }, [first]]) {
      const res = await api.json('POST', '/api/v1/rollback', { body })
      assert.equal(res.status, 400, JSON.stringify(body))
    }
    assert.equal((await api.call('POST', '/api/v1/rollback', { body: { to: 999 } })).status, 404)
  })

  test('rollback publishes the old content as a new generation, holds auto-publish, and the fleet of zero nodes is empty', async () => {
    const res = await api.json('POST', '/api/v1/rollback', { body: { to: first } })
    assert.equal(res.status, 200)
    assert.equal(res.body.generation, second + 1)
    assert.equal(res.body.held, true)
    const [latest] = (await api.json('GET', '/api/v1/versions')).body.versions
    assert.equal(latest.rollbackOf, first)
    assert.equal(latest.sha256, (await api.json('GET', `/api/v1/versions/${first}`)).body.sha256)
    const status = (await api.json('GET', '/api/v1/publish')).body
    assert.equal(status.held, true)
    assert.equal(status.generation, second + 1)
    const fleet = (await api.json('GET', '/api/v1/fleet')).body
    assert.deepEqual(fleet.nodes, [])
    assert.equal(fleet.summary.nodes.total, 0)
    assert.equal(fleet.summary.reporting, 0)

    const held = await api.json('PUT', '/api/v1/upstreams/late', { body: { addrs: ['127.0.0.1:9100'] } })
    assert.equal(held.status, 200)
    assert.equal(held.body.generation, second + 1, 'an edit during the hold is stored, not published')
    assert.equal(held.body.held, true)

    const released = await api.json('POST', '/api/v1/publish/release')
    assert.equal(released.status, 200)
    assert.equal(released.body.held, false)
    assert.equal(released.body.generation, second + 2)
    assert.equal((await api.json('GET', '/api/v1/publish')).body.held, false)

    const restored = await api.json('POST', `/api/v1/versions/${first}/restore`)
    assert.equal(restored.status, 200)
    assert.equal(restored.body.generation, second + 3)
    const desired = (await api.json('GET', '/api/v1/config')).body
    assert.deepEqual(Object.keys(desired.upstreams).sort(), ['api'])
    assert.deepEqual(desired.upstreams.api.addrs, ['127.0.0.1:8001'])
  })

  test('GET /publish shows an invalid edit written straight to the store as rejected', async () => {
    await api.store.put('desired/upstreams/broken', 'addrs = ["nohost"]\n')
    const status = await waitFor('a rejected publish', async () => {
      const body = (await api.json('GET', '/api/v1/publish')).body
      return body.state === 'rejected' ? body : undefined
    })
    assert.ok(
      status.errors.some((e: { path: string }) => e.path.startsWith('upstreams.broken.addrs')),
      JSON.stringify(status.errors),
    )
    await api.store.delete('desired/upstreams/broken')
  })
})

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { storeKeys } from '@fleetgate/schema'
import { BASE_TOML, startTestApi, type TestApi } from './api-fixture.ts'

describe('admin API with unreadable stored values', () => {
  let api: TestApi
  before(async () => {
    api = await startTestApi()
  })
  after(async () => await api.close())

  test('GET /versions lists unreadable manifests apart, and a diff naming one is a 500 that names the key', async () => {
    assert.equal((await api.json('PUT', '/api/v1/config', { body: BASE_TOML })).status, 200)
    const second = await api.json('PUT', '/api/v1/upstreams/extra', { body: { addrs: ['127.0.0.1:9001'] } })
    assert.equal(second.status, 200)
    const key = storeKeys.version(second.body.generation - 1)
    await api.store.put(key, 'garbage{')
    const list = await api.json('GET', '/api/v1/versions')
    assert.equal(list.status, 200)
    assert.deepEqual(
      list.body.versions.map((v: { generation: number }) => v.generation),
      [second.body.generation],
    )
    assert.deepEqual(
      list.body.unreadable.map((u: { path: string }) => u.path),
      [key],
    )
    const diff = await api.json('GET', `/api/v1/versions/${second.body.generation - 1}/diff/${second.body.generation}`)
    assert.equal(diff.status, 500)
    assert.equal(diff.body.error, 'CORRUPT_RECORD')
    assert.match(diff.body.message, new RegExp(key))
    const publish = await api.json('GET', '/api/v1/publish')
    assert.deepEqual([publish.status, publish.body.problems], [200, []])
  })

  test('GET /config names undecodable desired/ keys in a header, and PUT /config of that read is a 409', async () => {
    const key = storeKeys.desired('upstreams', 'be2')
    await api.store.put(key, 'addrs = ["127.0.0.1:27002"')
    const get = await api.call('GET', '/api/v1/config', { headers: { accept: 'application/toml' } })
    assert.equal(get.status, 200)
    assert.equal(get.headers.get('x-fleetgate-unreadable-keys'), encodeURIComponent(key))
    const kind = await api.call('GET', '/api/v1/upstreams')
    assert.equal(kind.headers.get('x-fleetgate-unreadable-keys'), encodeURIComponent(key))
    const put = await api.json('PUT', '/api/v1/config', { body: await get.text(), headers: { 'if-match': get.headers.get('etag') ?? '' } })
    assert.equal(put.status, 409)
    assert.deepEqual(
      put.body.errors.map((e: { path: string }) => e.path),
      [key],
    )
    assert.equal((await api.store.get(key))?.value.toString(), 'addrs = ["127.0.0.1:27002"')
    assert.equal((await api.json('DELETE', '/api/v1/upstreams/be2')).status, 200)
    const clean = await api.call('GET', '/api/v1/config')
    assert.equal(clean.headers.get('x-fleetgate-unreadable-keys'), null)
  })
})

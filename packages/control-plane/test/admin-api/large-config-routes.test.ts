import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { toToml } from '@fleetgate/schema'
import { startTestApi, type TestApi } from './api-fixture.ts'

const UPSTREAMS = 5000
const LOCATIONS = 200

/** 5,000 upstreams (two weighted backends each), a few hundred locations on them, one server. */
function bigConfig(timeout = '3s'): Record<string, Record<string, unknown>> {
  const upstreams: Record<string, unknown> = {}
  for (let i = 0; i < UPSTREAMS; i++) {
    upstreams[`svc-${i}`] = {
      addrs: [`127.0.0.1:${10_000 + i}`, `127.0.0.2:${10_000 + i} 2`],
      algorithm: 'round_robin',
      connection_timeout: timeout,
    }
  }
  const locations: Record<string, unknown> = {}
  for (let i = 0; i < LOCATIONS; i++) locations[`loc-${i}`] = { upstream: `svc-${i * 7}`, host: `h${i}.example.com`, path: `/p${i}` }
  return {
    basic: { name: 'big' },
    upstreams,
    locations,
    servers: { main: { addr: '127.0.0.1:8080', locations: Object.keys(locations) } },
  }
}

describe('admin API /config with 5,000 upstreams (local store)', () => {
  let api: TestApi
  before(async () => {
    api = await startTestApi()
  })
  after(async () => await api.close())

  test('a PUT of 5,000 upstreams as TOML publishes them all, and GET and the version read back complete', async () => {
    const config = bigConfig()
    const put = await api.json('PUT', '/api/v1/config', { body: toToml(config) })
    assert.equal(put.status, 200, JSON.stringify(put.body))
    assert.deepEqual([put.body.generation, put.body.published], [1, true])
    assert.equal((await api.store.getPrefix('desired/upstreams/')).kvs.length, UPSTREAMS)

    const got = await api.json('GET', '/api/v1/config')
    assert.equal(got.status, 200)
    assert.deepEqual(got.body, config)
    const version = await api.json('GET', '/api/v1/versions/1')
    assert.equal(version.status, 200)
    assert.equal(Object.keys(version.body.config.upstreams).length, UPSTREAMS)
    assert.deepEqual(version.body.config.upstreams['svc-4999'].addrs, ['127.0.0.1:14999', '127.0.0.2:14999 2'])
  })

  test('a second PUT changing every upstream replaces them all as one new generation', async () => {
    const put = await api.json('PUT', '/api/v1/config', { body: bigConfig('4s') })
    assert.equal(put.status, 200, JSON.stringify(put.body))
    assert.deepEqual([put.body.generation, put.body.published], [2, true])
    const got = await api.json('GET', '/api/v1/config')
    assert.deepEqual(got.body, bigConfig('4s'))
    const diff = await api.json('GET', '/api/v1/versions/1/diff/2')
    assert.equal(diff.body.changed.length, UPSTREAMS)
  })

  test('a PUT whose every location names an unknown upstream is a 400 listing each one, and nothing changes', async () => {
    const before = await api.json('GET', '/api/v1/config')
    const config = bigConfig()
    for (const loc of Object.values(config.locations as Record<string, { upstream: string }>)) loc.upstream = loc.upstream.replace('-', '_')
    const put = await api.json('PUT', '/api/v1/config', { body: config })
    assert.equal(put.status, 400)
    const paths = (put.body.errors as Array<{ path: string; message: string }>).filter((e) => /unknown upstream "svc_/.test(e.message))
    assert.equal(paths.length, LOCATIONS)
    assert.match(put.body.errors[0].message, /did you mean "svc-0"/)
    const after = await api.json('GET', '/api/v1/config')
    assert.equal(after.headers.get('etag'), before.headers.get('etag'))
  })
})

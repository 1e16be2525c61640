import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, test } from 'node:test'
import { parseToml } from '@fleetgate/schema'
import { BASE_TOML, startTestApi, type TestApi } from './api-fixture.ts'

describe('admin API /{kind}/{name} and /{section}', () => {
  let api: TestApi
  before(async () => {
    api = await startTestApi()
  })
  after(async () => await api.close())
  beforeEach(async () => {
    assert.equal((await api.call('PUT', '/api/v1/config', { body: BASE_TOML })).status, 200)
  })

  test('GET returns one resource with an ETag, as JSON or TOML', async () => {
    const json = await api.json('GET', '/api/v1/upstreams/api')
    assert.equal(json.status, 200)
    assert.deepEqual(json.body, { addrs: ['127.0.0.1:8001'] })
    assert.ok(json.headers.get('etag'))
    const toml = await api.call('GET', '/api/v1/locations/api', { headers: { accept: 'application/toml' } })
    const parsed = parseToml(await toml.text())
    assert.ok(parsed.ok)
    assert.deepEqual({ ...parsed.value }, { upstream: 'api', path: '/api' })
  })

  test('PUT adds a resource and publishes a new generation', async () => {
    const before = (await api.json('GET', '/api/v1/versions')).body.versions[0].generation
    const res = await api.json('PUT', '/api/v1/upstreams/web', { body: { addrs: ['127.0.0.1:9000'], algorithm: 'random' } })
    assert.equal(res.status, 200)
    assert.equal(res.body.generation, before + 1)
    assert.deepEqual((await api.json('GET', '/api/v1/upstreams/web')).body, { addrs: ['127.0.0.1:9000'], algorithm: 'random' })
  })

  test('PUT of TOML takes the keys bare or under their [kind.name] header', async () => {
    const bare = await api.json('PUT', '/api/v1/upstreams/bare', { body: 'addrs = ["127.0.0.1:9001"]\n' })
    assert.equal(bare.status, 200, JSON.stringify(bare.body))
    const wrapped = await api.json('PUT', '/api/v1/upstreams/wrapped', { body: '[upstreams.wrapped]\naddrs = ["127.0.0.1:9002"]\n' })
    assert.equal(wrapped.status, 200, JSON.stringify(wrapped.body))
    assert.deepEqual((await api.json('GET', '/api/v1/upstreams/wrapped')).body, { addrs: ['127.0.0.1:9002'] })
  })

  test('PUT of an invalid resource is a 400 naming the key path', async () => {
    const res = await api.json('PUT', '/api/v1/upstreams/api', { body: { addrs: ['127.0.0.1:8001'], algoritm: 'random' } })
    assert.equal(res.status, 400)
    assert.ok(
      res.body.errors.some(
        (e: { path: string; message: string }) => e.path === 'upstreams.api.algoritm' && /did you mean "algorithm"/.test(e.message),
      ),
      JSON.stringify(res.body.errors),
    )
  })

  test('PUT of a location removing a header that is no header name is a 400, and nothing is published', async () => {
    const before = await api.json('GET', '/api/v1/publish')
    const body = { upstream: 'api', path: '/api', headers_remove: ['X Secret'] }
    const res = await api.json('PUT', '/api/v1/locations/api', { body })
    assert.equal(res.status, 400, JSON.stringify(res.body))
    assert.equal(res.body.errors[0].path, 'locations.api.headers_remove.0')
    assert.match(res.body.errors[0].message, /must be a header name/)
    assert.equal((await api.json('GET', '/api/v1/publish')).body.generation, before.body.generation)
    assert.deepEqual((await api.json('GET', '/api/v1/locations/api')).body, { upstream: 'api', path: '/api' })
  })

  test('PUT of a server with an invalid access_log format is a 400, and nothing is published; a good format is', async () => {
    const before = await api.json('GET', '/api/v1/publish')
    const server = { addr: '127.0.0.1:8080', locations: ['api'] }
    for (const [format, message] of [
      ['{method} {stauts}', /unknown access_log variable \{stauts\} \(did you mean \{status\}\?\)/],
      ['{>X Tenant} {status}', /"X Tenant" is not a valid header name/],
      ['{method} {status', /unterminated "\{status"/],
      ['combind', /unknown access_log preset "combind"/],
    ] as const) {
      const res = await api.json('PUT', '/api/v1/servers/main', { body: { ...server, access_log: format } })
      assert.equal(res.status, 400, JSON.stringify(res.body))
      assert.equal(res.body.errors[0].path, 'servers.main.access_log')
      assert.match(res.body.errors[0].message, message)
    }
    assert.equal((await api.json('GET', '/api/v1/publish')).body.generation, before.body.generation)
    assert.deepEqual((await api.json('GET', '/api/v1/servers/main')).body, server)
    const good = await api.json('PUT', '/api/v1/servers/main', { body: { ...server, access_log: '{method} {path} {status} {>x-tenant}' } })
    assert.equal(good.status, 200, JSON.stringify(good.body))
    assert.equal(good.body.generation, before.body.generation + 1)
  })

  test('PUT with a stale If-Match is refused with 412', async () => {
    const etag = (await api.call('GET', '/api/v1/upstreams/api')).headers.get('etag')!
    assert.equal(
      (await api.call('PUT', '/api/v1/upstreams/api', { body: { addrs: ['127.0.0.1:8002'] }, headers: { 'if-match': etag } })).status,
      200,
    )
    const stale = await api.json('PUT', '/api/v1/upstreams/api', { body: { addrs: ['127.0.0.1:8003'] }, headers: { 'if-match': etag } })
    assert.equal(stale.status, 412)
    assert.deepEqual((await api.json('GET', '/api/v1/upstreams/api')).body, { addrs: ['127.0.0.1:8002'] })
  })

  test('DELETE removes an unreferenced resource', async () => {
    await api.call('PUT', '/api/v1/upstreams/spare', { body: { addrs: ['127.0.0.1:9003'] } })
    const res = await api.json('DELETE', '/api/v1/upstreams/spare')
    assert.equal(res.status, 200)
    assert.equal(typeof res.body.generation, 'number')
    assert.equal((await api.call('GET', '/api/v1/upstreams/spare')).status, 404)
  })

  test('DELETE of a resource still referenced is refused with 409', async () => {
    const res = await api.json('DELETE', '/api/v1/upstreams/api')
    assert.equal(res.status, 409)
    assert.equal(res.body.error, 'CONFLICT')
    assert.match(JSON.stringify(res.body), /locations\.api/)
    assert.equal((await api.call('GET', '/api/v1/upstreams/api')).status, 200)
  })

  test('GET and DELETE of a missing resource answer 404', async () => {
    assert.equal((await api.json('GET', '/api/v1/upstreams/nope')).body.error, 'NOT_FOUND')
    assert.equal((await api.call('GET', '/api/v1/upstreams/nope')).status, 404)
    assert.equal((await api.call('DELETE', '/api/v1/upstreams/nope')).status, 404)
  })

  test('an unknown kind is a 400 listing the valid ones', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/routes/a'],
      ['PUT', '/api/v1/routes/a'],
      ['DELETE', '/api/v1/routes/a'],
      ['GET', '/api/v1/routes'],
    ] as const) {
      const res = await api.json(method, path, method === 'PUT' ? { body: { a: 1 } } : {})
      assert.equal(res.status, 400, `${method} ${path}`)
      assert.match(res.body.message, /unknown kind "routes".*upstreams/)
    }
  })

  test('a malformed URL escape or resource name is a 400 in the API error shape', async () => {
    const badEscape = await api.json('GET', '/api/v1/upstreams/%zz')
    assert.equal(badEscape.status, 400)
    assert.equal(badEscape.body.error, 'FST_ERR_BAD_URL')
    assert.equal(badEscape.body.errors.length, 1)
    const name = await api.json('PUT', '/api/v1/upstreams/a%2Fb', { body: { addrs: ['127.0.0.1:1'] } })
    assert.equal(name.status, 400)
    assert.match(name.body.errors[0].message, /invalid name "a\/b"/)
  })

  for (const reserved of ['__proto__', 'constructor', 'prototype']) {
    test(`PUT of a resource named ${reserved} is a 400 naming the name, and nothing is published`, async () => {
      const before = await api.json('GET', '/api/v1/publish')
      const res = await api.json('PUT', `/api/v1/upstreams/${reserved}`, { body: { addrs: ['127.0.0.1:1'] } })
      assert.equal(res.status, 400, JSON.stringify(res.body))
      assert.equal(res.body.errors[0].path, `upstreams.${reserved}`)
      assert.match(res.body.errors[0].message, new RegExp(`invalid name "${reserved}": .* reserved`))
      assert.equal((await api.json('GET', '/api/v1/publish')).body.generation, before.body.generation)
    })
  }

  test('GET /{kind} lists the resources of a kind', async () => {
    const res = await api.json('GET', '/api/v1/locations')
    assert.equal(res.status, 200)
    assert.deepEqual(res.body, { api: { upstream: 'api', path: '/api' } })
  })

  test('GET and PUT of a single section (basic, metrics, tracing)', async () => {
    assert.deepEqual((await api.json('GET', '/api/v1/basic')).body, { name: 'test' })
    const put = await api.json('PUT', '/api/v1/basic', { body: { name: 'edge', log_level: 'warn' } })
    assert.equal(put.status, 200)
    assert.deepEqual((await api.json('GET', '/api/v1/basic')).body, { name: 'edge', log_level: 'warn' })
    const metrics = await api.json('PUT', '/api/v1/metrics', { body: '[metrics]\npath = "/m"\n' })
    assert.equal(metrics.status, 200, JSON.stringify(metrics.body))
    assert.deepEqual((await api.json('GET', '/api/v1/config')).body.metrics, { path: '/m' })
    const bad = await api.json('PUT', '/api/v1/tracing', { body: { sampling_ratio: 'lots' } })
    assert.equal(bad.status, 400)
    assert.ok(
      bad.body.errors.some((e: { path: string }) => e.path.startsWith('tracing.sampling_ratio')),
      JSON.stringify(bad.body),
    )
  })

  test('a section has no names under it and a kind is not PUT whole', async () => {
    assert.equal((await api.call('GET', '/api/v1/basic/x')).status, 400)
    assert.equal((await api.call('PUT', '/api/v1/upstreams', { body: { api: { addrs: ['127.0.0.1:1'] } } })).status, 405)
  })
})

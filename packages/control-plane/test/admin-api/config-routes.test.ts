import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { parseToml } from '@fleetgate/schema'
import { BASE_TOML, startTestApi, type TestApi } from './api-fixture.ts'

const tomlOf = (text: string) => {
  const parsed = parseToml(text)
  assert.ok(parsed.ok, 'expected valid TOML')
  return JSON.parse(JSON.stringify(parsed.value)) as Record<string, unknown>
}

describe('admin API /config', () => {
  let api: TestApi
  before(async () => {
    api = await startTestApi()
  })
  after(async () => await api.close())

  test('PUT of TOML publishes a generation and GET returns the same TOML tables', async () => {
    const put = await api.json('PUT', '/api/v1/config', { body: BASE_TOML })
    assert.equal(put.status, 200)
    assert.equal(typeof put.body.generation, 'number')
    assert.ok(put.body.generation >= 1)
    assert.equal(put.body.published, true)
    assert.match(put.body.sha256, /^[0-9a-f]{64}$/)
    const get = await api.call('GET', '/api/v1/config', { headers: { accept: 'application/toml' } })
    assert.equal(get.status, 200)
    assert.match(get.headers.get('content-type') ?? '', /^application\/toml/)
    assert.deepEqual(tomlOf(await get.text()), tomlOf(BASE_TOML))
  })

  test('PUT of JSON round-trips through GET as JSON', async () => {
    const config = tomlOf(BASE_TOML)
    ;(config.upstreams as Record<string, { addrs: string[] }>).api!.addrs = ['127.0.0.1:8003']
    const put = await api.json('PUT', '/api/v1/config', { body: config })
    assert.equal(put.status, 200)
    const get = await api.json('GET', '/api/v1/config')
    assert.match(get.headers.get('content-type') ?? '', /^application\/json/)
    assert.deepEqual(get.body, config)
  })

  test('an unchanged PUT answers the current generation without publishing', async () => {
    const first = await api.json('PUT', '/api/v1/config', { body: BASE_TOML })
    const again = await api.json('PUT', '/api/v1/config', { body: BASE_TOML })
    assert.equal(again.status, 200)
    assert.equal(again.body.generation, first.body.generation)
    assert.equal(again.body.published, false)
  })

  test('GET sends an ETag; PUT with a stale If-Match is refused with 412 and a current one succeeds', async () => {
    await api.json('PUT', '/api/v1/config', { body: BASE_TOML })
    const etag = (await api.call('GET', '/api/v1/config')).headers.get('etag')
    assert.ok(etag, 'ETag header')
    const changed = BASE_TOML.replace('name = "test"', 'name = "changed"')
    const ok = await api.json('PUT', '/api/v1/config', { body: changed, headers: { 'if-match': etag } })
    assert.equal(ok.status, 200)
    const stale = await api.json('PUT', '/api/v1/config', { body: BASE_TOML, headers: { 'if-match': etag } })
    assert.equal(stale.status, 412)
    assert.equal(stale.body.error, 'PRECONDITION_FAILED')
    assert.notEqual((await api.call('GET', '/api/v1/config')).headers.get('etag'), etag)
  })

  test('an invalid config is refused with 400 listing each error path, and nothing changes', async () => {
    await api.json('PUT', '/api/v1/config', { body: BASE_TOML })
    const before = await api.json('GET', '/api/v1/config')
    const res = await api.json('PUT', '/api/v1/config', { body: BASE_TOML.replace('upstream = "api"', 'upstream = "apii"') })
    assert.equal(res.status, 400)
    assert.equal(res.body.error, 'INVALID')
    assert.ok(
      res.body.errors.some(
        (e: { path: string; message: string }) => e.path === 'locations.api.upstream' && /unknown upstream "apii"/.test(e.message),
      ),
      JSON.stringify(res.body.errors),
    )
    assert.deepEqual((await api.json('GET', '/api/v1/config')).body, before.body)
  })

  test('a value of the wrong type is a 400 naming its path', async () => {
    const res = await api.json('PUT', '/api/v1/config', { body: { upstreams: { api: { addrs: 'not-a-list' } } } })
    assert.equal(res.status, 400)
    assert.ok(
      res.body.errors.some((e: { path: string }) => e.path.startsWith('upstreams.api.addrs')),
      JSON.stringify(res.body.errors),
    )
  })

  const malformed: Array<[string, string | unknown, string | undefined, RegExp]> = [
    ['malformed TOML', '[upstreams.api\naddrs = [', 'application/toml', /TOML syntax error at line 1/],
    ['malformed JSON', '{"upstreams": ', 'application/json', /malformed JSON/],
    ['a JSON array', [1, 2], undefined, /must be a JSON object/],
    ['a JSON string', '"text"', 'application/json', /must be a JSON object/],
    ['a missing body', '', 'application/json', /missing/],
    ['prototype pollution', '{"__proto__": {"x": 1}}', 'application/json', /"__proto__" .* are refused: they are reserved names/],
    [
      'a "__proto__" resource name in TOML',
      `${BASE_TOML}\n[upstreams.__proto__]\naddrs = ["127.0.0.1:1"]`,
      'application/toml',
      /invalid name "__proto__"/,
    ],
    [
      'JSON nested 1000 levels deep',
      `{"upstreams":{"api":{"addrs":["127.0.0.1:1"],"x":${'{"a":'.repeat(1000)}1${'}'.repeat(1000)}}}}`,
      'application/json',
      /JSON nested deeper than 64 levels/,
    ],
    ['an empty TOML body', '', 'application/toml', /config is missing/],
    ['a blank TOML body', ' \n\t\n', 'application/toml', /config is missing/],
  ]
  for (const [what, body, type, message] of malformed) {
    test(`${what} is a 400 with a readable error, not a 500`, async () => {
      const res = await api.json('PUT', '/api/v1/config', { body, ...(type ? { type } : {}) })
      assert.equal(res.status, 400, JSON.stringify(res.body))
      assert.ok(res.body.errors.length > 0)
      assert.match(res.body.errors.map((e: { message: string }) => e.message).join('\n'), message)
    })
  }

  test('an unsupported content type is refused with 415', async () => {
    const res = await api.json('PUT', '/api/v1/config', { body: '<config/>', type: 'application/xml' })
    assert.equal(res.status, 415)
  })

  test('a body over 16 MiB is refused with 413', async () => {
    const res = await api.json('PUT', '/api/v1/config', { body: `# ${'x'.repeat(17 * 1024 * 1024)}\n`, type: 'application/toml' })
    assert.equal(res.status, 413)
  })

  test('the author and message of a write come from X-Fleetgate-Author and ?message=, else the role', async () => {
    const named = BASE_TOML.replace('name = "test"', 'name = "authored"')
    const put = await api.json('PUT', `/api/v1/config?message=${encodeURIComponent('trim timeouts ✓')}`, {
      body: named,
      headers: { 'x-fleetgate-author': 'alice' },
    })
    assert.equal(put.status, 200)
    const [latest] = (await api.json('GET', '/api/v1/versions')).body.versions
    assert.equal(latest.generation, put.body.generation)
    assert.equal(latest.author, 'alice')
    assert.equal(latest.message, 'trim timeouts ✓')
    const byRole = await api.json('PUT', '/api/v1/config', { body: BASE_TOML, headers: { 'x-fleetgate-message': 'back' } })
    const [next] = (await api.json('GET', '/api/v1/versions')).body.versions
    assert.equal(next.generation, byRole.body.generation)
    assert.equal(next.author, 'admin')
    assert.equal(next.message, 'back')
  })
})

describe('admin API /validate and /schema', () => {
  let api: TestApi
  before(async () => {
    api = await startTestApi()
  })
  after(async () => await api.close())

  test('POST /validate accepts a valid config without storing it', async () => {
    const res = await api.json('POST', '/api/v1/validate', { body: BASE_TOML })
    assert.equal(res.status, 200)
    assert.equal(res.body.ok, true)
    assert.deepEqual((await api.json('GET', '/api/v1/versions')).body.versions, [])
    assert.deepEqual((await api.json('GET', '/api/v1/config')).body, {})
  })

  test('POST /validate answers 400 with every error of an invalid config', async () => {
    const res = await api.json('POST', '/api/v1/validate', {
      body: `${BASE_TOML}\n[upstreams.web]\naddrs = ["nohost"]\nalgoritm = "random"\n`,
    })
    assert.equal(res.status, 400)
    assert.equal(res.body.ok, false)
    const paths = res.body.errors.map((e: { path: string }) => e.path)
    assert.ok(paths.includes('upstreams.web.algoritm'), paths.join(', '))
    assert.ok(paths.includes('upstreams.web.addrs.0'), paths.join(', '))
  })

  test('POST /validate takes a config of 10,000 locations (over 1 MB) through the body limit', async () => {
    const locations: Record<string, unknown> = {}
    for (let i = 0; i < 10_000; i++)
      locations[`loc${i}`] = { upstream: 'api', path: `/svc/${i}/`, host: `h${i % 50}.example.com`, headers_add: ['X-Source:edge'] }
    const config = {
      upstreams: { api: { addrs: ['127.0.0.1:8001'] } },
      locations,
      servers: { main: { addr: '127.0.0.1:8080', locations: Object.keys(locations) } },
    }
    assert.ok(JSON.stringify(config).length > 1024 * 1024)
    const res = await api.json('POST', '/api/v1/validate', { body: config })
    assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 500))
    assert.equal(res.body.ok, true)
  })

  test('GET /schema returns the JSON Schema of every section and plugin type', async () => {
    const res = await api.json('GET', '/api/v1/schema')
    assert.equal(res.status, 200)
    for (const section of ['basic', 'upstreams', 'locations', 'servers', 'plugins', 'certificates', 'metrics', 'tracing']) {
      assert.equal(res.body.sections[section]?.type, 'object', section)
    }
    assert.ok(res.body.sections.upstreams.properties.addrs)
    assert.equal(typeof res.body.plugins, 'object')
  })
})

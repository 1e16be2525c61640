import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { ADMIN, BASE_TOML, startTestApi, type TestApi, VIEWER } from './api-fixture.ts'

describe('admin API authentication', () => {
  let api: TestApi
  before(async () => {
    api = await startTestApi()
  })
  after(async () => await api.close())

  test('answers 401 with WWW-Authenticate when no token is sent', async () => {
    const res = await api.json('GET', '/api/v1/config', { token: null })
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('www-authenticate'), 'Bearer')
    assert.equal(res.body.error, 'UNAUTHORIZED')
  })

  test('answers 401 for a wrong token', async () => {
    const res = await api.json('GET', '/api/v1/config', { token: 'not-the-token' })
    assert.equal(res.status, 401)
  })

  test('answers 401 on unknown API routes rather than revealing they do not exist', async () => {
    assert.equal((await api.call('GET', '/api/v1/nothing/here/at/all', { token: null })).status, 401)
    assert.equal((await api.call('GET', '/api/v1/nothing/here/at/all')).status, 404)
  })

  test('accepts the token in X-API-KEY', async () => {
    const res = await api.call('GET', '/api/v1/config', { token: null, headers: { 'x-api-key': VIEWER } })
    assert.equal(res.status, 200)
  })

  test('never accepts the token in the query string', async () => {
    const res = await api.call('GET', `/api/v1/config?token=${ADMIN}&api_key=${ADMIN}`, { token: null })
    assert.equal(res.status, 401)
  })

  test('lets a read-only token read and validate', async () => {
    assert.equal((await api.call('GET', '/api/v1/config', { token: VIEWER })).status, 200)
    assert.equal((await api.call('GET', '/api/v1/versions', { token: VIEWER })).status, 200)
    assert.equal((await api.call('GET', '/api/v1/fleet', { token: VIEWER })).status, 200)
    assert.equal((await api.call('POST', '/api/v1/validate', { token: VIEWER, body: BASE_TOML })).status, 200)
  })

  test('refuses every write with a read-only token (403)', async () => {
    const writes: Array<[string, string, unknown]> = [
      ['PUT', '/api/v1/config', BASE_TOML],
      ['PUT', '/api/v1/upstreams/x', { addrs: ['127.0.0.1:1'] }],
      ['DELETE', '/api/v1/upstreams/api', undefined],
      ['PUT', '/api/v1/basic', { name: 'x' }],
      ['POST', '/api/v1/rollback', { to: 1 }],
      ['POST', '/api/v1/versions/1/restore', undefined],
      ['POST', '/api/v1/publish/release', undefined],
    ]
    for (const [method, path, body] of writes) {
      const res = await api.json(method, path, { token: VIEWER, body })
      assert.equal(res.status, 403, `${method} ${path}`)
      assert.equal(res.body.error, 'FORBIDDEN')
    }
  })

  test('serves /livez and /readyz without a token', async () => {
    assert.deepEqual((await api.json('GET', '/livez', { token: null })).body, { status: 'ok' })
    assert.equal((await api.call('GET', '/readyz', { token: null })).status, 200)
  })

  test('never writes tokens to the log', async () => {
    await api.call('GET', '/api/v1/config', { token: 'wrong-token-should-not-be-logged' })
    await api.call('GET', '/api/v1/config', { token: null, headers: { 'x-api-key': VIEWER } })
    await api.call('GET', '/api/v1/config')
    assert.match(api.logs(), /wrong token/)
    for (const secret of [ADMIN, VIEWER, 'wrong-token-should-not-be-logged']) assert.ok(!api.logs().includes(secret), `${secret} leaked`)
  })
})

describe('admin API failed-authentication limit', () => {
  let api: TestApi
  before(async () => {
    api = await startTestApi({ authFailureLimits: { max: 3, windowMs: 60_000 } })
  })
  after(async () => await api.close())

  test('answers 429 with Retry-After once an address has sent too many wrong tokens, even for a right one', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await api.call('GET', '/api/v1/config', { token: `guess-${i}` })).status, 401)
    const blocked = await api.json('GET', '/api/v1/config', { token: 'guess-4' })
    assert.equal(blocked.status, 429)
    assert.equal(blocked.body.error, 'RATE_LIMITED')
    const retryAfter = Number(blocked.headers.get('retry-after'))
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`)
    assert.equal((await api.call('GET', '/api/v1/config')).status, 429)
    assert.equal((await api.call('GET', '/livez', { token: null })).status, 200)
  })
})

describe('admin API failed-authentication limit window', () => {
  let api: TestApi
  before(async () => {
    api = await startTestApi({ authFailureLimits: { max: 2, windowMs: 300 } })
  })
  after(async () => await api.close())

  test('lets the address in again once the window has passed', async () => {
    for (let i = 0; i < 2; i++) await api.call('GET', '/api/v1/config', { token: 'wrong' })
    assert.equal((await api.call('GET', '/api/v1/config')).status, 429)
    await new Promise((resolve) => setTimeout(resolve, 400))
    assert.equal((await api.call('GET', '/api/v1/config')).status, 200)
  })

  test('does not count requests that carry no token', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await api.call('GET', '/api/v1/config', { token: null })).status, 401)
    assert.equal((await api.call('GET', '/api/v1/config')).status, 200)
  })
})

import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import {
  assembleDesired,
  configHash,
  decodeConfigBlob,
  encodeConfigBlob,
  loadConfigText,
  splitDesired,
  storeKeys,
  validateConfig,
} from '../src/index.ts'

const toml = `
[basic]
name = "edge"
[upstreams.api]
addrs = ["127.0.0.1:8001"]
[locations.api]
upstream = "api"
[servers.main]
addr = "127.0.0.1:8080"
locations = ["api"]
`

test('splits a config into desired keys and assembles it back', () => {
  const result = loadConfigText(toml)
  assert.ok(result.ok)
  const entries = splitDesired(result.config)
  assert.ok(entries.some((e) => e.key === 'desired/upstreams/api'))
  assert.ok(entries.some((e) => e.key === 'desired/basic'))
  const { config, errors } = assembleDesired(entries)
  assert.deepEqual(errors, [])
  const again = validateConfig(config)
  assert.ok(again.ok)
  assert.equal(configHash(again.config), configHash(result.config))
})

test('reads JSON values and Pingap-style wrapped TOML values', () => {
  const { config, errors } = assembleDesired([
    { key: 'desired/upstreams/a', value: '{"addrs":["127.0.0.1:1"]}' },
    { key: 'desired/upstreams/b', value: '[upstreams.b]\naddrs = ["127.0.0.1:2"]' },
  ])
  assert.deepEqual(errors, [])
  assert.deepEqual(JSON.parse(JSON.stringify(config.upstreams)), { a: { addrs: ['127.0.0.1:1'] }, b: { addrs: ['127.0.0.1:2'] } })
})

test('reports undecodable values and unexpected keys instead of dropping them', () => {
  const { errors } = assembleDesired([
    { key: 'desired/upstreams/a', value: 'addrs = [' },
    { key: 'desired/routes/x', value: '{}' },
  ])
  assert.equal(errors.length, 2)
  assert.match(errors[0]?.message ?? '', /cannot parse desired\/upstreams\/a/)
})

test('reports a desired/ key with a reserved name instead of dropping it', () => {
  const { config, errors } = assembleDesired([{ key: 'desired/upstreams/__proto__', value: '{"addrs":["127.0.0.1:1"]}' }])
  assert.deepEqual(
    errors.map((e) => e.path),
    ['upstreams.__proto__'],
  )
  assert.match(errors[0]?.message ?? '', /invalid name "__proto__"/)
  assert.equal(config.upstreams, undefined)
})

test('config blobs round-trip in chunks and refuse a wrong hash', () => {
  const big = {
    locations: Object.fromEntries(
      Array.from({ length: 20_000 }, (_, i) => [`l${i}`, { path: `/p/${i}/${randomBytes(24).toString('hex')}` }]),
    ),
  }
  const blob = encodeConfigBlob(big)
  assert.ok(blob.chunks.length > 1, 'expected several chunks')
  assert.deepEqual(decodeConfigBlob(blob.chunks, blob.sha256), big)
  assert.throws(() => decodeConfigBlob(blob.chunks, '0'.repeat(64)), /hash mismatch/)
  assert.equal(storeKeys.version(42), 'versions/00000000000000000042')
})

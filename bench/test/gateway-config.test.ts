import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadConfigText } from '../../packages/schema/src/index.ts'
import { renderGatewayConfig, renderTemplate } from '../gateway-config.ts'

test('the rendered benchmark config passes the schema with five locations, three upstreams and a regex route', () => {
  const result = loadConfigText(renderGatewayConfig({ LISTEN: '127.0.0.1:18080', BACKEND: '127.0.0.1:18081' }))
  assert.ok(result.ok, JSON.stringify(!result.ok && result.errors))
  const { locations, upstreams, servers } = result.config
  assert.equal(Object.keys(locations ?? {}).length, 5)
  assert.equal(Object.keys(upstreams ?? {}).length, 3)
  assert.ok(Object.values(locations ?? {}).some((l) => l.path.startsWith('~')))
  assert.equal(servers?.main?.addr, '127.0.0.1:18080')
})

test('a placeholder without a value is an error, not left in the config', () => {
  assert.throws(() => renderTemplate('addr = "{{LISTEN}}"\nx = "{{MISSING}}"', { LISTEN: '127.0.0.1:1' }), /MISSING/)
})

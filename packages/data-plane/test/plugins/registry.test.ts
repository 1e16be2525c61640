import assert from 'node:assert/strict'
import { test } from 'node:test'
import { PingSchema } from '@fleetgate/schema'
import { BUILTIN_PLUGINS, builtinRegistry } from '../../src/plugins/builtin.ts'
import { createPluginRegistry } from '../../src/plugins/registry.ts'
import { definePlugin, type PluginDefinition } from '../../src/plugins/types.ts'

const pingLike = (name: string, priority: number) =>
  definePlugin({ name, priority, schema: PingSchema, create: () => ({}) }) as unknown as PluginDefinition

test('the built-in registry holds every built-in plugin under its name', () => {
  const registry = builtinRegistry()
  assert.equal(registry.size, BUILTIN_PLUGINS.length)
  for (const name of ['request_id', 'ping', 'mock', 'redirect', 'cors', 'key_auth', 'basic_auth', 'limit'])
    assert.ok(registry.has(name), name)
})

test('the registry refuses a duplicate name', () => {
  const ping = BUILTIN_PLUGINS.find((p) => p.name === 'ping') as PluginDefinition
  assert.throws(() => createPluginRegistry([ping, { ...ping, priority: 1 }]), /"ping" is registered twice/)
})

test('the registry refuses a duplicate priority', () => {
  const ping = BUILTIN_PLUGINS.find((p) => p.name === 'ping') as PluginDefinition
  const mock = BUILTIN_PLUGINS.find((p) => p.name === 'mock') as PluginDefinition
  assert.throws(() => createPluginRegistry([ping, { ...mock, priority: ping.priority }]), /same priority/)
})

test('the registry refuses a plugin whose schema is not registered under its name', () => {
  assert.throws(() => createPluginRegistry([pingLike('pong', 1)]), /no schema registered/)
})

// What the plugin counters behind fleetgate_plugin_refusals_total / _errors_total count.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { countPluginFailure, countPluginReply, pluginCounters, splitCounterKey } from '../../src/plugins/plugin-counters.ts'
import { refuse } from '../../src/plugins/refusal.ts'

const counts = (map: Map<string, number>) => Object.fromEntries([...map].map(([k, n]) => [splitCounterKey(k).join('/'), n]))

test('counts refusals by plugin and code, a bare status when there is no code, and no answer below 400', () => {
  pluginCounters.refusals.clear()
  countPluginReply('rl', refuse('RATE_LIMITED', 'slow down'))
  countPluginReply('rl', refuse('RATE_LIMITED', 'slow down'))
  countPluginReply('auth', refuse('UNAUTHORIZED', 'who are you'))
  countPluginReply('mock', { status: 418, body: 'teapot' })
  countPluginReply('ping', { status: 200, body: 'pong' })
  countPluginReply('redirect', { status: 301, headers: { location: '/x' } })
  assert.deepEqual(counts(pluginCounters.refusals), { 'rl/RATE_LIMITED': 2, 'auth/UNAUTHORIZED': 1, 'mock/418': 1 })
})

test('counts failures by plugin and phase', () => {
  pluginCounters.failures.clear()
  countPluginFailure('jwt', 'request')
  countPluginFailure('jwt', 'request')
  countPluginFailure('cors', 'response')
  assert.deepEqual(counts(pluginCounters.failures), { 'jwt/request': 2, 'cors/response': 1 })
})

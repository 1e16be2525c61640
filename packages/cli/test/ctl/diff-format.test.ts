import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { ConfigDiff } from '@fleetgate/control-plane'
import { formatDiff } from '../../src/ctl/history-commands.ts'

const empty: ConfigDiff = { from: 1, to: 2, added: [], removed: [], changed: [] }

const cases: Array<[string, ConfigDiff, string]> = [
  ['a named resource as kind.name', { ...empty, added: [{ kind: 'upstreams', name: 'web' }] }, '+ upstreams.web\n'],
  [
    'a singleton section by its kind alone',
    { ...empty, changed: [{ kind: 'basic', keys: ['grace_period', 'name'] }], removed: [{ kind: 'tracing' }] },
    '- tracing\n~ basic: grace_period, name\n',
  ],
  ['no differences in words', empty, 'no differences between generation 1 and 2\n'],
]

for (const [what, diff, expected] of cases) {
  test(`ctl diff prints ${what}`, () => {
    assert.equal(formatDiff(diff), expected)
  })
}

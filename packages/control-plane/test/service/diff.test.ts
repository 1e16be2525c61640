import assert from 'node:assert/strict'
import { test } from 'node:test'
import { diffConfigs } from '../../src/diff.ts'

const cases: Array<{
  name: string
  a: Record<string, unknown>
  b: Record<string, unknown>
  want: Omit<ReturnType<typeof diffConfigs>, 'from' | 'to'>
}> = [
  {
    name: 'equal configs in another key order have no differences',
    a: { upstreams: { x: { addrs: ['a:1'], algorithm: 'random' } } },
    b: { upstreams: { x: { algorithm: 'random', addrs: ['a:1'] } } },
    want: { added: [], removed: [], changed: [] },
  },
  {
    name: 'resources added and removed by kind and name',
    a: { upstreams: { x: { addrs: ['a:1'] } }, locations: { old: { path: '/' } } },
    b: { upstreams: { x: { addrs: ['a:1'] }, y: { addrs: ['b:1'] } } },
    want: { added: [{ kind: 'upstreams', name: 'y' }], removed: [{ kind: 'locations', name: 'old' }], changed: [] },
  },
  {
    name: 'changed resources list the top-level keys that differ, added and dropped keys included',
    a: { locations: { l: { path: '/a', methods: ['GET'], priority: 1 } } },
    b: { locations: { l: { path: '/a', methods: ['GET', 'POST'], rewrite: '/' } } },
    want: { added: [], removed: [], changed: [{ kind: 'locations', name: 'l', keys: ['methods', 'priority', 'rewrite'] }] },
  },
  {
    name: 'singleton sections are named by kind alone',
    a: { basic: { name: 'a' } },
    b: { basic: { name: 'b' }, metrics: { addr: '127.0.0.1:9090' } },
    want: { added: [{ kind: 'metrics' }], removed: [], changed: [{ kind: 'basic', keys: ['name'] }] },
  },
]

for (const c of cases) {
  test(`diff: ${c.name}`, () => {
    assert.deepEqual(diffConfigs(c.a, c.b, { from: 1, to: 2 }), { from: 1, to: 2, ...c.want })
  })
}

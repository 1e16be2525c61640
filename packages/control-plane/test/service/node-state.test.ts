// How the control plane's metrics classify a data plane against the current generation.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type FleetNode, nodeState } from '../../src/index.ts'

const node = (over: Partial<FleetNode>): FleetNode => ({
  id: 'n1',
  address: null,
  version: null,
  applied: null,
  rejected: null,
  lastSeen: new Date(0).toISOString(),
  stale: false,
  ...over,
})
const applied = (generation: number) => ({ generation, sha256: 'x', at: '' })
const rejected = (generation: number) => ({ generation, error: 'bad', at: '' })

const cases: Array<[string, FleetNode, number | null, ReturnType<typeof nodeState>]> = [
  ['applied the current generation', node({ applied: applied(5) }), 5, 'current'],
  ['applied an older generation', node({ applied: applied(4) }), 5, 'behind'],
  ['applied nothing yet', node({}), 5, 'behind'],
  ['rejected the current generation', node({ applied: applied(4), rejected: rejected(5) }), 5, 'rejected'],
  ['rejected an older one, then applied the current', node({ applied: applied(5), rejected: rejected(3) }), 5, 'current'],
  ['silent for too long, whatever it applied', node({ applied: applied(5), stale: true }), 5, 'stale'],
  ['nothing published yet', node({}), null, 'behind'],
]

for (const [name, n, generation, expected] of cases) {
  test(`a node that ${name} is ${expected}`, () => assert.equal(nodeState(n, generation), expected))
}

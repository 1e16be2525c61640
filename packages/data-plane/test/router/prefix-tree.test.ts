import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createPrefixTree, type PrefixNode } from '../../src/router/prefix-tree.ts'

function matches(tree: ReturnType<typeof createPrefixTree<string>>, path: string): string[] {
  const out: string[] = []
  for (let node: PrefixNode<string> | undefined = tree.deepest(path); node; node = node.parent) out.push(...node.values)
  return out
}

test('lists every stored prefix of a path, longest first', () => {
  const tree = createPrefixTree<string>()
  for (const p of ['/api/v1', '', '/api', '/ap', '/apple', '/api/v1/users', '/b']) tree.insert(p, p)
  assert.deepEqual(matches(tree, '/api/v1/users/7'), ['/api/v1/users', '/api/v1', '/api', '/ap', ''])
  assert.deepEqual(matches(tree, '/apple'), ['/apple', '/ap', ''])
  assert.deepEqual(matches(tree, '/apricot'), ['/ap', ''])
  assert.deepEqual(matches(tree, '/c'), [''])
})

test('keeps values that share a prefix in insertion order', () => {
  const tree = createPrefixTree<string>()
  tree.insert('/x', 'first')
  tree.insert('/xy', 'deeper')
  tree.insert('/x', 'second')
  assert.deepEqual(matches(tree, '/x/1'), ['first', 'second'])
  assert.deepEqual(matches(tree, '/xyz'), ['deeper', 'first', 'second'])
})

test('finds nothing in an empty tree', () => {
  assert.deepEqual(matches(createPrefixTree<string>(), '/a'), [])
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { request, routerFor } from './router-fixture.ts'

test('a router of 10,000 prefix locations finds the longest matching prefix', () => {
  const locations: Record<string, Record<string, unknown>> = {}
  for (let i = 0; i < 10_000; i++) locations[`svc_${i}`] = { path: `/t/${i}` }
  const router = routerFor(locations)
  assert.equal(router.match(request('example.com', '/t/1234/users'))?.name, 'svc_1234')
  assert.equal(router.match(request('example.com', '/t/99999'))?.name, 'svc_9999')
  assert.equal(router.match(request('example.com', '/t/0'))?.name, 'svc_0')
  assert.equal(router.match(request('example.com', '/t/'))?.name, undefined)
  assert.equal(router.match(request('example.com', '/u/1'))?.name, undefined)
})

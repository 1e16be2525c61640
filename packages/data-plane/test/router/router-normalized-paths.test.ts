// Requests reach the router with a normalized path (proxy/normalize-path.ts); configured exact
// and prefix paths are normalized the same way, so both spellings meet.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { normalizePath } from '../../src/proxy/normalize-path.ts'
import { request, routerFor } from './router-fixture.ts'

const router = routerFor({
  cafe: { path: '=/caf%c3%a9' },
  tilde: { path: '/%7Euser/', rewrite: '/home/' },
  dotted: { path: '/a//b/./c' },
  all: { path: '/' },
})

/** The route and upstream path for a target whose path is normalized as the proxy does. */
function route(target: string): { name: string | undefined; upstream: string | undefined } {
  const req = request('example.com', target)
  req.path = normalizePath(req.path)
  const r = router.match(req)
  return { name: r?.name, upstream: r?.rewrite(req) }
}

test('an exact path with lower-case hex matches requests in either case', () => {
  assert.equal(route('/caf%c3%a9').name, 'cafe')
  assert.equal(route('/caf%C3%A9').name, 'cafe')
})

test('a prefix with an escaped unreserved character matches the decoded request and rewrites on it', () => {
  assert.deepEqual(route('/~user/x?q=1'), { name: 'tilde', upstream: '/home/x?q=1' })
  assert.deepEqual(route('/%7euser/x'), { name: 'tilde', upstream: '/home/x' })
})

test('a prefix with repeated slashes and dot segments matches its normal form', () => {
  assert.equal(route('/a/b/c/d').name, 'dotted')
  assert.equal(route('/a//b/c/d').name, 'dotted')
})

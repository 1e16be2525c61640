import assert from 'node:assert/strict'
import { test } from 'node:test'
import { request, routerFor } from './router-fixture.ts'

const cases: { behaviour: string; location: Record<string, unknown>; target: string; expect: string }[] = [
  { behaviour: 'no rewrite keeps path and query', location: { path: '/a' }, target: '/a/b?c=d', expect: '/a/b?c=d' },
  {
    behaviour: 'a prefix rewritten to "/" drops the prefix',
    location: { path: '/api/v1', rewrite: '/' },
    target: '/api/v1/users',
    expect: '/users',
  },
  {
    behaviour: 'the bare prefix rewritten to "/" becomes "/"',
    location: { path: '/api/v1', rewrite: '/' },
    target: '/api/v1',
    expect: '/',
  },
  {
    behaviour: 'a prefix rewrite keeps the query string',
    location: { path: '/api/v1', rewrite: '/' },
    target: '/api/v1/users?a=1',
    expect: '/users?a=1',
  },
  {
    behaviour: 'a prefix rewritten to "/v2" replaces it',
    location: { path: '/api/v1', rewrite: '/v2' },
    target: '/api/v1/users',
    expect: '/v2/users',
  },
  {
    behaviour: 'the bare prefix rewritten to "/v2" becomes "/v2"',
    location: { path: '/api/v1', rewrite: '/v2' },
    target: '/api/v1',
    expect: '/v2',
  },
  {
    behaviour: 'a trailing-slash prefix and target join with one slash',
    location: { path: '/api/', rewrite: '/v2/' },
    target: '/api/x',
    expect: '/v2/x',
  },
  {
    behaviour: 'the empty prefix rewrite prepends the target',
    location: { path: '', rewrite: '/base' },
    target: '/x?q',
    expect: '/base/x?q',
  },
  {
    behaviour: 'a regex rewrite substitutes numbered captures',
    location: { path: '/user', rewrite: '^/user/(\\d+)/(\\w+)$ /u/$2/$1' },
    target: '/user/42/posts?x=1',
    expect: '/u/posts/42?x=1',
  },
  {
    behaviour: 'a regex rewrite substitutes named captures',
    location: { path: '~^/user/', rewrite: '^/user/(?<id>\\d+) /profile/$id' },
    target: '/user/7/x',
    expect: '/profile/7/x',
  },
  {
    behaviour: 'a regex rewrite that does not match leaves the path',
    location: { path: '/user', rewrite: '^/user/(\\d+)$ /u/$1' },
    target: '/user/abc?k=v',
    expect: '/user/abc?k=v',
  },
  {
    behaviour: 'a regex rewrite adding a query joins the original one with "&"',
    location: { path: '/s', rewrite: '^/s/(.*)$ /search?q=$1' },
    target: '/s/abc?page=2',
    expect: '/search?q=abc&page=2',
  },
  {
    behaviour: 'an exact-path rewrite replaces the whole path',
    location: { path: '=/old', rewrite: '/new' },
    target: '/old?x=1',
    expect: '/new?x=1',
  },
  {
    behaviour: 'a regex-path single-field rewrite replaces the whole path',
    location: { path: '~^/legacy/', rewrite: '/modern' },
    target: '/legacy/a/b',
    expect: '/modern',
  },
]

for (const c of cases) {
  test(c.behaviour, () => {
    const router = routerFor({ loc: c.location })
    const req = request('example.com', c.target)
    const route = router.match(req)
    assert.ok(route, 'the location should match')
    assert.equal(route.rewrite(req), c.expect)
  })
}

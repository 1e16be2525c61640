import assert from 'node:assert/strict'
import type { IncomingHttpHeaders } from 'node:http'
import { test } from 'node:test'
import { request, routerFor } from './router-fixture.ts'

const router = routerFor({
  fallback: { path: '/' },
  api_get: { path: '/api', methods: ['GET', 'HEAD'] },
  api_post: { path: '/api', methods: ['POST'] },
  canary: { path: '/api/v1', match_headers: ['X-Canary:1'] },
  debug: { path: '/api/v1', match_headers: ['x-debug'] },
  v2: { path: '/api/v1', match_query: ['version:2'] },
  beta: { path: '/api/v1', match_query: ['beta'] },
  both: { path: '=/both', methods: ['PUT'], match_headers: ['x-a:1'], match_query: ['b:2'] },
  login_post: { path: '=/login', methods: ['POST'] },
  strict: { host: 'strict.test', path: '/', match_headers: ['x-key:k'] },
})

const cases: {
  behaviour: string
  host?: string
  target: string
  method?: string
  headers?: IncomingHttpHeaders
  expect: string | undefined
}[] = [
  { behaviour: 'a method list admits a listed method', target: '/api/x', expect: 'api_get' },
  { behaviour: 'the next location with the same prefix takes another method', target: '/api/x', method: 'POST', expect: 'api_post' },
  { behaviour: 'an unlisted method falls through to a shorter prefix', target: '/api/x', method: 'DELETE', expect: 'fallback' },
  { behaviour: 'a header condition matches its exact value', target: '/api/v1/x', headers: { 'x-canary': '1' }, expect: 'canary' },
  { behaviour: 'a header with another value falls through', target: '/api/v1/x', headers: { 'x-canary': '2' }, expect: 'api_get' },
  { behaviour: 'a name-only header condition needs the header present', target: '/api/v1/x', headers: { 'x-debug': '' }, expect: 'debug' },
  { behaviour: 'a repeated header matches on any of its values', target: '/api/v1', headers: { 'x-canary': ['0', '1'] }, expect: 'canary' },
  { behaviour: 'a query condition matches its exact value', target: '/api/v1/x?version=2', expect: 'v2' },
  { behaviour: 'a query condition finds its parameter among others', target: '/api/v1/x?a=1&version=2&b', expect: 'v2' },
  { behaviour: 'a query condition compares the decoded value', target: '/api/v1/x?versio%6E=%32', expect: 'v2' },
  { behaviour: 'a query parameter with another value falls through', target: '/api/v1/x?version=3', expect: 'api_get' },
  { behaviour: 'a query parameter whose name only starts the same does not match', target: '/api/v1/x?versions=2', expect: 'api_get' },
  { behaviour: 'a name-only query condition matches a bare parameter', target: '/api/v1/x?beta', expect: 'beta' },
  { behaviour: 'a name-only query condition matches a parameter with a value', target: '/api/v1/x?beta=yes', expect: 'beta' },
  {
    behaviour: 'all conditions of a location must hold together',
    target: '/both?b=2',
    method: 'PUT',
    headers: { 'x-a': '1' },
    expect: 'both',
  },
  { behaviour: 'one failing condition among several falls through', target: '/both?b=2', method: 'PUT', expect: 'fallback' },
  { behaviour: 'an exact path failing its method falls through to a prefix', target: '/login', expect: 'fallback' },
  { behaviour: 'an exact path with its method matches', target: '/login', method: 'POST', expect: 'login_post' },
  {
    behaviour: 'a host-specific location failing its condition falls to host-less ones',
    host: 'strict.test',
    target: '/z',
    expect: 'fallback',
  },
  {
    behaviour: 'a host-specific location with its condition met matches',
    host: 'strict.test',
    target: '/z',
    headers: { 'x-key': 'k' },
    expect: 'strict',
  },
]

for (const c of cases) {
  test(c.behaviour, () => {
    const route = router.match(request(c.host ?? 'example.com', c.target, c.method ?? 'GET', c.headers ?? {}))
    assert.equal(route?.name, c.expect)
  })
}

test('no route matches when every candidate fails its conditions', () => {
  const only = routerFor({ posts: { path: '/api', methods: ['POST'] }, beta: { path: '/', match_query: ['beta'] } })
  assert.equal(only.match(request('example.com', '/api/x')), undefined)
  assert.equal(only.match(request('example.com', '/api/x?beta'))?.name, 'beta')
})

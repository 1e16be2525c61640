import assert from 'node:assert/strict'
import { test } from 'node:test'
import { normalizePath, normalizeRequestPath } from '../../src/proxy/normalize-path.ts'

const cases: { behaviour: string; path: string; expect: string }[] = [
  { behaviour: 'a plain path is unchanged', path: '/api/v1/users', expect: '/api/v1/users' },
  { behaviour: 'the root is unchanged', path: '/', expect: '/' },
  { behaviour: 'a dot inside a segment is no dot segment', path: '/.well-known/a.b/..c/c..', expect: '/.well-known/a.b/..c/c..' },
  { behaviour: 'an escaped unreserved letter is decoded', path: '/%69pr', expect: '/ipr' },
  { behaviour: 'upper-case hex decodes alike', path: '/%49%50%52', expect: '/IPR' },
  { behaviour: 'every unreserved kind is decoded', path: '/%41%7a%30%2D%2e%5F%7e', expect: '/Az0-._~' },
  { behaviour: 'other escapes keep their value with upper-case hex', path: '/caf%c3%a9/%20%3b', expect: '/caf%C3%A9/%20%3B' },
  { behaviour: 'an encoded percent is never decoded twice', path: '/%2569pr/%252e%252e', expect: '/%2569pr/%252e%252e' },
  { behaviour: 'a malformed escape is left as it is', path: '/a%zz/b%4/c%', expect: '/a%zz/b%4/c%' },
  { behaviour: 'a malformed escape does not hide a later one', path: '/%x%69', expect: '/%xi' },
  { behaviour: 'repeated slashes are merged', path: '//ipr//a///b', expect: '/ipr/a/b' },
  { behaviour: 'a trailing slash is kept once', path: '/a//', expect: '/a/' },
  { behaviour: 'slashes alone become the root', path: '///', expect: '/' },
  { behaviour: 'a ".." segment removes the one before it', path: '/public/../admin', expect: '/admin' },
  { behaviour: '".." cannot climb above the root', path: '/../../etc', expect: '/etc' },
  { behaviour: 'a final ".." leaves a directory', path: '/a/b/..', expect: '/a/' },
  { behaviour: 'a "." segment is dropped', path: '/a/./b/.', expect: '/a/b/' },
  { behaviour: 'encoded dots count as dot segments', path: '/public/%2e%2E/admin', expect: '/admin' },
  { behaviour: 'a half-encoded dot-dot counts too', path: '/public/.%2e/admin', expect: '/admin' },
  { behaviour: 'decoding, merging and dot removal combine', path: '/x//%2e%2e//%69pr', expect: '/ipr' },
  { behaviour: 'an encoded slash stays encoded data', path: '/a%2fb', expect: '/a%2Fb' },
]

for (const c of cases) {
  test(`normalizePath: ${c.behaviour}`, () => {
    assert.equal(normalizePath(c.path), c.expect)
  })
}

for (const c of cases.filter((c) => !/%2f/i.test(c.path))) {
  test(`normalizeRequestPath: ${c.behaviour}`, () => {
    assert.equal(normalizeRequestPath(c.path), c.expect)
  })
}

test('normalizePath returns the very input when it is already normal', () => {
  const path = ['/api', 'v1', 'users'].join('/')
  assert.equal(Object.is(normalizePath(path), path), true)
  assert.equal(Object.is(normalizeRequestPath(path), path), true)
})

for (const path of ['/%2fipr', '/%2Fipr', '/a/..%2f..%2fipr', '/a%5cb', '/a%5Cb', '/\\ipr', '/a/..\\ipr']) {
  test(`normalizeRequestPath refuses an encoded or raw separator: ${path}`, () => {
    assert.equal(normalizeRequestPath(path), undefined)
  })
}

test('normalizeRequestPath accepts an encoded percent before "2f"', () => {
  assert.equal(normalizeRequestPath('/a%252fb'), '/a%252fb')
})

// The web UI's static routes over real HTTP: media types, security headers, redirects, 404s,
// path traversal attempts (sent raw, byte for byte), and that /api still needs its token.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { rawRequest } from '@fleetgate/testkit'
import { UI_DIR } from '../src/admin-api/ui-routes.ts'
import { ADMIN, startTestApi, type TestApi, VIEWER } from './admin-api/api-fixture.ts'

const CSP = "default-src 'self'"

function assertSecurityHeaders(headers: Headers, what: string): void {
  const csp = headers.get('content-security-policy') ?? ''
  assert.ok(csp.startsWith(CSP), `${what}: CSP ${csp}`)
  assert.match(csp, /script-src 'self'(;|$)/, `${what}: scripts from this origin only`)
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, `${what}: no inline script or eval`)
  assert.match(csp, /frame-ancestors 'none'/)
  assert.equal(headers.get('x-frame-options'), 'DENY', what)
  assert.equal(headers.get('referrer-policy'), 'no-referrer', what)
  assert.equal(headers.get('x-content-type-options'), 'nosniff', what)
}

describe('web UI routes', () => {
  let api: TestApi
  let port: number

  before(async () => {
    api = await startTestApi()
    port = api.controlPlane.port
  })
  after(async () => {
    await api?.close()
  })

  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${api.url}${path}`, { headers, redirect: 'manual', signal: AbortSignal.timeout(10_000) })

  test('GET /ui/ serves index.html as HTML with the security headers and no token', async () => {
    const res = await get('/ui/')
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8')
    assertSecurityHeaders(res.headers, '/ui/')
    const html = await res.text()
    assert.match(html, /<script type="module" src="app.js"><\/script>/)
  })

  test('index.html has no inline script, style or event handler attributes (the CSP would block them)', async () => {
    const html = await (await get('/ui/')).text()
    for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
      assert.match(m[1] ?? '', /\bsrc=/, 'every script has a src')
      assert.equal((m[2] ?? '').trim(), '', 'no inline script body')
    }
    assert.doesNotMatch(html, /\son[a-z]+=/i)
    assert.doesNotMatch(html, /\sstyle=/i)
  })

  test('every module the UI imports is served as JavaScript, and the stylesheet as CSS', async () => {
    const seen = new Set<string>()
    const queue = ['app.js']
    while (queue.length > 0) {
      const file = queue.shift() as string
      if (seen.has(file)) continue
      seen.add(file)
      const res = await get(`/ui/${file}`)
      assert.equal(res.status, 200, file)
      assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8', file)
      assertSecurityHeaders(res.headers, file)
      const source = await res.text()
      for (const m of source.matchAll(/^import [^'"]*['"]([^'"]+)['"]/gm)) {
        const target = new URL(m[1] as string, `http://x/${file}`).pathname.slice(1)
        queue.push(target)
      }
    }
    assert.ok(seen.size >= 10, `the import graph reaches every view (${[...seen].join(', ')})`)
    const css = await get('/ui/style.css')
    assert.equal(css.status, 200)
    assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8')
  })

  test('no UI file builds HTML from strings or evaluates code', () => {
    const files = readdirSync(UI_DIR, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'))
    assert.ok(files.length > 0)
    for (const file of files) {
      const source = readFileSync(join(UI_DIR, file), 'utf8')
      assert.doesNotMatch(source, /\.(innerHTML|outerHTML)\b|insertAdjacentHTML|document\.write|\beval\(|new Function\(/, file)
    }
  })

  test('a file comes with an ETag and a matching If-None-Match gets 304', async () => {
    const first = await get('/ui/app.js')
    const etag = first.headers.get('etag')
    assert.ok(etag)
    assert.equal(first.headers.get('cache-control'), 'no-cache')
    const second = await get('/ui/app.js', { 'if-none-match': etag })
    assert.equal(second.status, 304)
  })

  test('GET / redirects to /ui/, and /ui to /ui/', async () => {
    const root = await get('/')
    assert.equal(root.status, 302)
    assert.equal(root.headers.get('location'), '/ui/')
    assertSecurityHeaders(root.headers, '/')
    const bare = await get('/ui')
    assert.equal(bare.status, 301)
    assert.equal(bare.headers.get('location'), '/ui/')
  })

  test('an unknown UI file is 404 (not 401), with the security headers', async () => {
    for (const path of ['/ui/nope.js', '/ui/views/nope.js', '/ui/views/', '/ui/app.ts']) {
      const res = await get(path)
      assert.equal(res.status, 404, path)
      assertSecurityHeaders(res.headers, path)
      assert.equal(((await res.json()) as { error: string }).error, 'NOT_FOUND')
    }
  })

  test('path traversal attempts are refused, whatever the encoding', async () => {
    const attempts = [
      '/ui/../package.json',
      '/ui/../../../../etc/passwd',
      '/ui/%2e%2e/package.json',
      '/ui/%2E%2E/src/index.ts',
      '/ui/views/%2e%2e/%2e%2e/package.json',
      '/ui/..%2fpackage.json',
      '/ui/.%2e/package.json',
      '/ui/views/..%5c..%5cpackage.json',
      '/ui/app.js%00.png',
      '/ui/%00',
      '/ui/./app.js',
      '/ui/..\\package.json',
    ]
    for (const path of attempts) {
      const res = await rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`)
      const body = res.body.toString()
      assert.equal(res.status, 400, `${path}: ${res.status} ${body.slice(0, 200)}`)
      assert.equal(JSON.parse(body).error, 'BAD_PATH', path)
      assertSecurityHeaders(new Headers(Object.entries(res.headers).map(([k, v]) => [k, v.join(', ')])), path)
    }
  })

  test('/api still needs its token; /whoami names the role', async () => {
    assert.equal((await api.call('GET', '/api/v1/config', { token: null })).status, 401)
    assert.equal((await api.call('GET', '/api/v1/whoami', { token: null })).status, 401)
    assert.equal((await api.call('GET', '/api/v1/whoami', { token: 'wrong-token-value' })).status, 401)
    assert.deepEqual((await api.json('GET', '/api/v1/whoami', { token: ADMIN })).body, { role: 'admin', name: 'admin' })
    assert.equal((await api.json('GET', '/api/v1/whoami', { token: VIEWER })).body.role, 'readonly')
    const schema = await api.json('GET', '/api/v1/schema')
    assert.deepEqual(schema.body.kinds, ['upstreams', 'locations', 'servers', 'plugins', 'certificates'])
    assert.deepEqual(schema.body.singletons, ['basic', 'metrics', 'tracing'])
  })
})

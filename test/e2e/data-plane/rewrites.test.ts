// Path rewrites, request and response header edits, and upstream_host, seen by a real backend
// and a real client through the gateway.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { freePort, type GatewayProcess, startBackend, startGateway, type TestBackend } from '@fleetgate/testkit'
import { Agent, request } from 'undici'

let backend: TestBackend
let gateway: GatewayProcess
let port: number
const agent = new Agent({ connections: 4 })

before(async () => {
  // Echoes the path and raw headers it got, and sends headers the gateway is told to edit.
  backend = await startBackend('echo', (req, res) => {
    res.setHeader('x-internal', 'secret')
    res.setHeader('x-resp-set', 'from-backend')
    res.setHeader('x-resp-add', 'from-backend')
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ url: req.url, rawHeaders: req.rawHeaders }))
  })
  port = await freePort()
  gateway = await startGateway(`
[upstreams.echo]
addrs = ["${backend.addr}"]

[locations.strip]
upstream = "echo"
path = "/api"
rewrite = "/"

[locations.move]
upstream = "echo"
path = "/old"
rewrite = "/new/"

[locations.regex]
upstream = "echo"
path = "~^/u/"
rewrite = '^/u/(\\d+)/(?<tab>[a-z]+)$ /users/$1?tab=$tab'

[locations.edits]
upstream = "echo"
path = "/edits"
upstream_host = "internal.svc"
headers_add = ["X-Add:from-gateway"]
headers_set = ["X-Set:from-gateway"]
headers_remove = ["X-Secret"]
response_headers_add = ["X-Resp-Add:from-gateway"]
response_headers_set = ["X-Resp-Set:from-gateway"]
response_headers_remove = ["X-Internal"]

[locations.plain]
upstream = "echo"
path = "/plain"

[servers.main]
addr = "127.0.0.1:${port}"
locations = ["strip", "move", "regex", "edits", "plain"]
`)
})

after(async () => {
  await agent.close()
  await gateway?.stop()
  await backend?.close()
})

interface Echo {
  url: string
  rawHeaders: string[]
}

async function send(path: string, headers: Record<string, string | string[]> = {}) {
  const res = await request(`http://127.0.0.1:${port}${path}`, { dispatcher: agent, headers })
  assert.equal(res.statusCode, 200)
  return { res, echo: (await res.body.json()) as Echo }
}

/** Every value of header `name` (case-insensitive) in a raw [name, value, ...] list. */
function valuesOf(raw: string[], name: string): string[] {
  const out: string[] = []
  for (let i = 0; i < raw.length; i += 2) if ((raw[i] as string).toLowerCase() === name) out.push(raw[i + 1] as string)
  return out
}

describe('path rewrites', () => {
  test('a prefix rewritten to "/" drops the prefix', async () => {
    assert.equal((await send('/api/users/7')).echo.url, '/users/7')
    assert.equal((await send('/api')).echo.url, '/')
    assert.equal((await send('/api/')).echo.url, '/')
  })
  test('a prefix rewritten to another prefix keeps the rest of the path', async () => {
    assert.equal((await send('/old/a/b')).echo.url, '/new/a/b')
    assert.equal((await send('/old')).echo.url, '/new/')
  })
  test('a prefix rewrite keeps the query string', async () => {
    assert.equal((await send('/api/search?q=a%20b&page=2')).echo.url, '/search?q=a%20b&page=2')
    assert.equal((await send('/old/x?y=1')).echo.url, '/new/x?y=1')
  })
  test('a regex rewrite substitutes $1 and named captures', async () => {
    assert.equal((await send('/u/42/posts')).echo.url, '/users/42?tab=posts')
  })
  test('a regex rewrite appends the original query with "&" when the new path has one', async () => {
    assert.equal((await send('/u/42/posts?page=3')).echo.url, '/users/42?tab=posts&page=3')
  })
  test('a path the rewrite regex does not match is passed unchanged', async () => {
    assert.equal((await send('/u/abc')).echo.url, '/u/abc')
  })
  test('no rewrite passes path and query unchanged', async () => {
    assert.equal((await send('/plain/x?a=1&b=2')).echo.url, '/plain/x?a=1&b=2')
  })
})

describe('request header edits', () => {
  test('headers_add appends a value after the client one', async () => {
    const { echo } = await send('/edits', { 'x-add': 'from-client' })
    assert.deepEqual(valuesOf(echo.rawHeaders, 'x-add'), ['from-client', 'from-gateway'])
  })
  test('headers_set replaces the client value', async () => {
    const { echo } = await send('/edits', { 'x-set': 'from-client' })
    assert.deepEqual(valuesOf(echo.rawHeaders, 'x-set'), ['from-gateway'])
  })
  test('headers_set adds the header when the client sent none', async () => {
    const { echo } = await send('/edits')
    assert.deepEqual(valuesOf(echo.rawHeaders, 'x-set'), ['from-gateway'])
    assert.deepEqual(valuesOf(echo.rawHeaders, 'x-add'), ['from-gateway'])
  })
  test('headers_remove drops the header whatever its case', async () => {
    const { echo } = await send('/edits', { 'X-SECRET': 'token', 'x-other': 'kept' })
    assert.deepEqual(valuesOf(echo.rawHeaders, 'x-secret'), [])
    assert.deepEqual(valuesOf(echo.rawHeaders, 'x-other'), ['kept'])
  })
  test('upstream_host replaces the Host sent upstream', async () => {
    const { echo } = await send('/edits', { host: 'public.example.com' })
    assert.deepEqual(valuesOf(echo.rawHeaders, 'host'), ['internal.svc'])
  })
  test('without upstream_host the client Host is sent upstream', async () => {
    const { echo } = await send('/plain', { host: 'public.example.com:8080' })
    assert.deepEqual(valuesOf(echo.rawHeaders, 'host'), ['public.example.com:8080'])
  })
})

describe('response header edits', () => {
  test('response_headers_add appends to the backend value', async () => {
    const { res } = await send('/edits')
    assert.deepEqual(res.headers['x-resp-add'], ['from-backend', 'from-gateway'])
  })
  test('response_headers_set replaces the backend value', async () => {
    const { res } = await send('/edits')
    assert.equal(res.headers['x-resp-set'], 'from-gateway')
  })
  test('response_headers_remove drops the backend header', async () => {
    const { res } = await send('/edits')
    assert.equal(res.headers['x-internal'], undefined)
  })
  test('a location without edits passes the backend headers through', async () => {
    const { res } = await send('/plain')
    assert.equal(res.headers['x-internal'], 'secret')
    assert.equal(res.headers['x-resp-set'], 'from-backend')
  })
})

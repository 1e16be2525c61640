// The routing table through real sockets: hosts, path kinds and their precedence, methods,
// header and query conditions, priority, and the 404 a request matching nothing gets.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { freePort, type GatewayProcess, startBackend, startGateway, type TestBackend } from '@fleetgate/testkit'
import { Agent, request } from 'undici'

let backend: TestBackend
let gateway: GatewayProcess
let port: number
const agent = new Agent({ connections: 4 })

/** A location that tags the upstream request with its own name, so the backend echo says which one matched. */
function location(name: string, body: string): string {
  return `[locations.${name}]\nupstream = "echo"\nheaders_set = ["X-Route:${name}"]\n${body}\n`
}

const LOCATIONS: Array<[string, string]> = [
  ['host_exact', 'host = "api.example.com"\npath = "/h"'],
  ['host_wild', 'host = "*.example.com"\npath = "/h"'],
  ['host_regex', 'host = "~^shop-[0-9]+\\\\.test$"\npath = "/h"'],
  ['path_exact', 'path = "=/p/exact"'],
  ['path_short', 'path = "/p"'],
  ['path_long', 'path = "/p/long"'],
  ['path_regex', 'path = "~^/(p|r)/.*\\\\.png$"'],
  // Conditional locations come before the plain one on the same path: config order decides among equals.
  ['method_post', 'path = "/m"\nmethods = ["POST", "PUT"]'],
  ['method_any', 'path = "/m"'],
  ['header_value', 'path = "/c"\nmatch_headers = ["x-canary:1"]'],
  ['header_present', 'path = "/c"\nmatch_headers = ["x-beta"]'],
  ['query_value', 'path = "/c"\nmatch_query = ["version:2"]'],
  ['query_present', 'path = "/c"\nmatch_query = ["debug"]'],
  ['conditions_none', 'path = "/c"'],
  ['prio_deep', 'path = "/prio/deep"'],
  ['prio_high', 'path = "/prio"\npriority = 10'],
  ['prio_regex', 'path = "~^/prio/deep/regex"\npriority = 20'],
]

before(async () => {
  backend = await startBackend('echo')
  port = await freePort()
  const toml = [
    `[upstreams.echo]\naddrs = ["${backend.addr}"]\n`,
    ...LOCATIONS.map(([name, body]) => location(name, body)),
    `[servers.main]\naddr = "127.0.0.1:${port}"\nlocations = [${LOCATIONS.map(([n]) => `"${n}"`).join(', ')}]\n`,
  ].join('\n')
  gateway = await startGateway(toml)
})

after(async () => {
  await agent.close()
  await gateway?.stop()
  await backend?.close()
})

/** Sends one request through the gateway; resolves with the matched location's name (or "404"). */
async function routeOf(path: string, opts: { host?: string; method?: string; headers?: Record<string, string> } = {}): Promise<string> {
  const res = await request(`http://127.0.0.1:${port}${path}`, {
    dispatcher: agent,
    method: (opts.method ?? 'GET') as 'GET',
    headers: { host: opts.host ?? 'any.test', ...opts.headers },
  })
  const text = await res.body.text()
  if (res.statusCode === 404) return '404'
  assert.equal(res.statusCode, 200, text)
  return (JSON.parse(text) as { headers: Record<string, string> }).headers['x-route'] as string
}

describe('hosts', () => {
  test('an exact host beats a wildcard that also matches', async () => {
    assert.equal(await routeOf('/h', { host: 'api.example.com' }), 'host_exact')
  })
  test('host matching ignores case and port', async () => {
    assert.equal(await routeOf('/h', { host: 'API.Example.COM:8443' }), 'host_exact')
  })
  test('a wildcard host matches a subdomain', async () => {
    assert.equal(await routeOf('/h/x', { host: 'www.example.com' }), 'host_wild')
    assert.equal(await routeOf('/h', { host: 'a.b.example.com' }), 'host_wild')
  })
  test('a wildcard host does not match the bare domain', async () => {
    assert.equal(await routeOf('/h', { host: 'example.com' }), '404')
  })
  test('a regex host matches by regex', async () => {
    assert.equal(await routeOf('/h', { host: 'shop-42.test' }), 'host_regex')
    assert.equal(await routeOf('/h', { host: 'shop-x.test' }), '404')
  })
})

describe('paths', () => {
  test('an exact path beats a prefix covering it', async () => {
    assert.equal(await routeOf('/p/exact'), 'path_exact')
  })
  test('an exact path matches only itself', async () => {
    assert.equal(await routeOf('/p/exact/more'), 'path_short')
  })
  test('the longest prefix wins', async () => {
    assert.equal(await routeOf('/p/long/a'), 'path_long')
    assert.equal(await routeOf('/p/other'), 'path_short')
    assert.equal(await routeOf('/p'), 'path_short')
  })
  test('a prefix beats a regex that also matches', async () => {
    assert.equal(await routeOf('/p/image.png'), 'path_short')
  })
  test('a regex path matches where no prefix does', async () => {
    assert.equal(await routeOf('/r/image.png'), 'path_regex')
    assert.equal(await routeOf('/r/image.gif'), '404')
  })
  test('the query string is not part of the path', async () => {
    assert.equal(await routeOf('/p/exact?x=1'), 'path_exact')
  })
})

describe('conditions', () => {
  test('methods restrict a location to those methods', async () => {
    assert.equal(await routeOf('/m', { method: 'POST' }), 'method_post')
    assert.equal(await routeOf('/m', { method: 'PUT' }), 'method_post')
    assert.equal(await routeOf('/m', { method: 'GET' }), 'method_any')
    assert.equal(await routeOf('/m', { method: 'DELETE' }), 'method_any')
  })
  test('match_headers "name:value" needs that value', async () => {
    assert.equal(await routeOf('/c', { headers: { 'x-canary': '1' } }), 'header_value')
    assert.equal(await routeOf('/c', { headers: { 'X-Canary': '1' } }), 'header_value')
    assert.equal(await routeOf('/c', { headers: { 'x-canary': '2' } }), 'conditions_none')
  })
  test('match_headers "name" needs the header with any value', async () => {
    assert.equal(await routeOf('/c', { headers: { 'x-beta': 'yes' } }), 'header_present')
  })
  test('match_query "name:value" needs that value', async () => {
    assert.equal(await routeOf('/c?version=2'), 'query_value')
    assert.equal(await routeOf('/c?a=b&version=2'), 'query_value')
    assert.equal(await routeOf('/c?version=3'), 'conditions_none')
  })
  test('match_query "name" needs the parameter', async () => {
    assert.equal(await routeOf('/c?debug'), 'query_present')
    assert.equal(await routeOf('/c?debug=1'), 'query_present')
    assert.equal(await routeOf('/c?nodebug=1'), 'conditions_none')
  })
})

describe('priority', () => {
  test('a higher priority beats a longer prefix', async () => {
    assert.equal(await routeOf('/prio/deep/x'), 'prio_high')
  })
  test('the highest priority wins among prioritized locations', async () => {
    assert.equal(await routeOf('/prio/deep/regex'), 'prio_regex')
  })
})

describe('no route', () => {
  test('answers 404 with a JSON error body by default', async () => {
    const res = await request(`http://127.0.0.1:${port}/nowhere`, { dispatcher: agent })
    assert.equal(res.statusCode, 404)
    assert.match(String(res.headers['content-type']), /application\/json/)
    const body = (await res.body.json()) as { error: { code: string; status: number; message: string } }
    assert.equal(body.error.code, 'NO_ROUTE')
    assert.equal(body.error.status, 404)
    assert.equal(typeof body.error.message, 'string')
    assert.equal(backend.last?.url?.startsWith('/nowhere'), false)
  })
  test('answers 404 with an HTML body when the client accepts text/html', async () => {
    const res = await request(`http://127.0.0.1:${port}/nowhere`, {
      dispatcher: agent,
      headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' },
    })
    assert.equal(res.statusCode, 404)
    assert.match(String(res.headers['content-type']), /text\/html/)
    const body = await res.body.text()
    assert.match(body, /<html/i)
    assert.match(body, /NO_ROUTE/)
  })
})

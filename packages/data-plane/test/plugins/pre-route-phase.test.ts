// The pre_route phase through the real handler: a test-only plugin (registered under the ping
// schema through the registry) answers before routing, rewrites the path the router sees, keeps
// its variables for later phases, and a throwing or broken hook is a 500, never a crash.
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { after, before, test } from 'node:test'
import { loadConfigTextOrThrow } from '@fleetgate/schema'
import { startBackend, type TestBackend } from '@fleetgate/testkit'
import pino from 'pino'
import { request } from 'undici'
import { BUILTIN_PLUGINS } from '../../src/plugins/builtin.ts'
import { createPluginRegistry } from '../../src/plugins/registry.ts'
import type { PluginDefinition } from '../../src/plugins/types.ts'
import { handleRequest } from '../../src/proxy/handler.ts'
import { compileSnapshot, type ServerRuntime, type Snapshot } from '../../src/snapshot.ts'

const logger = pino({ level: 'silent' })
const seenLocations: Array<string | undefined> = []
const ping = BUILTIN_PLUGINS.find((p) => p.name === 'ping') as PluginDefinition
/** The test plugin, under ping's name and schema (the registry wants a registered schema). */
const preRouter: PluginDefinition = {
  ...ping,
  create: () => ({
    pre_route(ctx, path) {
      seenLocations.push(ctx.location)
      if (path === '/stop') return { status: 403, body: 'stopped before routing' }
      if (path === '/boom') throw new Error('plugin bug')
      if (path === '/bad') return { path: 'no-slash' }
      if (path.startsWith('/old/')) return { path: `/v2/${path.slice('/old/'.length)}` }
      ctx.vars.pre_path = path
      return undefined
    },
    response(ctx, head) {
      head.headers.push('x-pre-path', String(ctx.vars.pre_path ?? '-'), 'x-location', ctx.location ?? '-')
    },
  }),
}
const registry = createPluginRegistry([...BUILTIN_PLUGINS.filter((p) => p.name !== 'ping'), preRouter])

let backend: TestBackend
let snap: Snapshot
let server: Server
let base: string

function compile(extra: string): Snapshot {
  const config = loadConfigTextOrThrow(`
[upstreams.app]
addrs = ["${backend.addr}"]
[plugins.pre]
type = "ping"
[locations.api]
path = "/api/"
upstream = "app"
[locations.v2]
path = "/v2/"
upstream = "app"
${extra}
`)
  return compileSnapshot(config, { generation: 1, sha256: 'x', source: 'test' }, undefined, {
    listenOverrides: new Map(),
    logger,
    pluginRegistry: registry,
  }).snapshot
}

const mainServer = (s: Snapshot) => [...s.serversByListen.values()][0] as ServerRuntime

before(async () => {
  backend = await startBackend('app')
  snap = compile('[servers.main]\naddr = "127.0.0.1:0"\nlocations = ["api", "v2"]\nplugins = ["pre"]\n')
  server = createServer((req, res) => handleRequest(snap, mainServer(snap), req, res, () => {}))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
})

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()))
  for (const u of snap.upstreams.values()) void u.close()
  await backend.close()
})

test('pre_route runs before routing and its variables reach the later phases', async () => {
  seenLocations.length = 0
  const res = await request(`${base}/api/items?x=1`)
  assert.equal(res.statusCode, 200)
  assert.equal(((await res.body.json()) as { url: string }).url, '/api/items?x=1')
  assert.deepEqual(seenLocations, [undefined])
  assert.equal(res.headers['x-pre-path'], '/api/items')
  assert.equal(res.headers['x-location'], 'api')
})

test('a path returned by pre_route is what the router and the upstream see', async () => {
  const res = await request(`${base}/old/thing?q=2`)
  assert.equal(res.statusCode, 200)
  assert.equal(((await res.body.json()) as { url: string }).url, '/v2/thing?q=2')
  assert.equal(res.headers['x-location'], 'v2')
})

test('a pre_route reply answers before routing, through the response phase', async () => {
  const res = await request(`${base}/stop`)
  assert.equal(res.statusCode, 403)
  assert.equal(await res.body.text(), 'stopped before routing')
  assert.equal(res.headers['x-location'], '-')
  assert.notEqual(backend.last?.url, '/stop')
})

test('a throwing pre_route hook is a 500 with an error id', async () => {
  const res = await request(`${base}/boom`)
  assert.equal(res.statusCode, 500)
  assert.match(String(res.headers['x-fleetgate-error-id']), /^[0-9a-f]{16}$/)
  await res.body.dump()
})

test('a pre_route path that does not start with "/" is a 500', async () => {
  const res = await request(`${base}/bad`)
  assert.equal(res.statusCode, 500)
  await res.body.dump()
})

test('a server without global pre_route hooks compiles no pre_route step', () => {
  const plain = compile('[servers.main]\naddr = "127.0.0.1:0"\nlocations = ["api"]\n')
  assert.equal(mainServer(plain).plugins, undefined)
  const located = compile('[servers.main]\naddr = "127.0.0.1:0"\nlocations = ["api"]\n[plugins.other]\ntype = "request_id"\n')
  assert.equal(mainServer(located).plugins, undefined)
  for (const s of [plain, located]) for (const u of s.upstreams.values()) void u.close()
  assert.notEqual(mainServer(snap).plugins?.preRoute, undefined)
})

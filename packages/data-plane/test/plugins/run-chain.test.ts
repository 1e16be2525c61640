// The chain runner on a real HTTP server: replies, async hooks, order, and a throwing plugin
// answered 500 with an error id that the log line carries too.
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { after, before, test } from 'node:test'
import pino from 'pino'
import { request } from 'undici'
import { compileChain } from '../../src/plugins/chain.ts'
import { createRequestContext, requestVars } from '../../src/plugins/context.ts'
import type { PluginInstance } from '../../src/plugins/instances.ts'
import { runLogPhase, runRequestPhase } from '../../src/plugins/run-chain.ts'
import type { PluginHooks } from '../../src/plugins/types.ts'

const logs: Record<string, unknown>[] = []
const logger = pino({ level: 'error' }, { write: (line: string) => logs.push(JSON.parse(line)) })
const order: string[] = []
const note = (step: string) => {
  order.push(step)
  return undefined
}
const fail = (message: string): undefined => {
  throw new Error(message)
}

const instance = (name: string, priority: number, hooks: PluginHooks): PluginInstance => ({
  name,
  type: name,
  priority,
  hash: name,
  hooks,
  controller: new AbortController(),
})

const instances = new Map<string, PluginInstance>([
  ['low', instance('low', 1, { request: () => note('low') })],
  ['high', instance('high', 9, { request: (ctx) => note(`high:${Object.assign(ctx.vars, { consumer: 'c1' }).consumer}`) })],
  [
    'slow_reply',
    instance('slow_reply', 5, { request: async (ctx) => (ctx.path === '/async' ? { status: 418, body: 'teapot' } : undefined) }),
  ],
  ['boom', instance('boom', 4, { request: (ctx) => (ctx.path === '/boom' ? fail('plugin bug') : undefined) })],
  ['tag', instance('tag', 3, { response: (_ctx, head) => void head.headers.push('x-tag', 'yes') })],
])
const chain = compileChain(['low', 'high', 'slow_reply', 'boom', 'tag', 'high'], instances, logger)
let server: Server
let base: string
const ended: Array<{ status: number; consumer: unknown }> = []

before(async () => {
  server = createServer((req, res) => {
    const ctx = createRequestContext(req, {
      host: '',
      path: req.url ?? '/',
      query: '',
      scheme: 'http',
      clientIp: '127.0.0.1',
      location: 't',
      bodyLimit: 0,
    })
    const end = (o: { status: number }) => {
      ended.push({ status: o.status, consumer: requestVars(req)?.consumer })
      if (chain) runLogPhase(chain, ctx, o as never)
    }
    if (chain) runRequestPhase(chain, ctx, res, () => res.writeHead(200).end('passed'), end as never)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
})

after(() => new Promise<void>((resolve) => server.close(() => resolve())))

test('a chain runs hooks by priority, once per instance, and then proceeds', async () => {
  order.length = 0
  const res = await request(`${base}/ok`)
  assert.equal(await res.body.text(), 'passed')
  assert.deepEqual(order, ['high:c1', 'low'])
  assert.deepEqual(chain?.names, ['high', 'slow_reply', 'boom', 'tag', 'low'])
})

test('an async hook reply stops the chain and goes through the response phase', async () => {
  order.length = 0
  const res = await request(`${base}/async`)
  assert.equal(res.statusCode, 418)
  assert.equal(res.headers['x-tag'], 'yes')
  assert.equal(res.headers['content-length'], '6')
  assert.equal(await res.body.text(), 'teapot')
  assert.deepEqual(order, ['high:c1'])
  assert.deepEqual(ended.at(-1), { status: 418, consumer: 'c1' })
})

test('a throwing hook becomes a 500 with an error id that the log line carries', async () => {
  const res = await request(`${base}/boom`)
  assert.equal(res.statusCode, 500)
  assert.equal(res.headers['x-fleetgate-error'], 'INTERNAL')
  const errorId = String(res.headers['x-fleetgate-error-id'])
  await res.body.dump()
  const line = logs.find((l) => l.errorId === errorId)
  assert.ok(line, `no log line with error id ${errorId}`)
  assert.equal(line.plugin, 'boom')
  assert.equal(ended.at(-1)?.status, 500)
})

test('a location with no plugins compiles to no chain', () => {
  assert.equal(compileChain([], instances, logger), undefined)
})

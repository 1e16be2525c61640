// The response_body phase runner: no pipeline when no hook returns a transform or the response
// has no body, transforms piped in priority order, and a throwing hook reported as a failure.
import assert from 'node:assert/strict'
import { PassThrough, Transform } from 'node:stream'
import { text } from 'node:stream/consumers'
import { test } from 'node:test'
import pino from 'pino'
import { compileChain } from '../../src/plugins/chain.ts'
import type { PluginInstance } from '../../src/plugins/instances.ts'
import { runResponseBodyPhase } from '../../src/plugins/run-chain.ts'
import type { PluginHooks, RequestContext } from '../../src/plugins/types.ts'

const logs: Record<string, unknown>[] = []
const logger = pino({ level: 'error' }, { write: (line: string) => logs.push(JSON.parse(line)) })
const instance = (name: string, priority: number, hooks: PluginHooks): PluginInstance => ({
  name,
  type: name,
  priority,
  hash: name,
  hooks,
  controller: new AbortController(),
})
const suffix = (tag: string) => new Transform({ transform: (chunk: Buffer, _e, cb) => cb(null, `${chunk.toString()}${tag}`) })
const instances = new Map<string, PluginInstance>([
  ['none', instance('none', 9, { response_body: () => undefined })],
  ['a', instance('a', 5, { response_body: () => suffix('+a') })],
  ['b', instance('b', 3, { response_body: () => suffix('+b') })],
  [
    'boom',
    instance('boom', 1, {
      response_body: () => {
        throw new Error('bug')
      },
    }),
  ],
])
const ctx = (method: string) => ({ method, path: '/', location: 'l', vars: {} }) as unknown as RequestContext
const head = (status = 200) => ({ status, headers: [] as string[] })

test('returns no pipeline when no hook returns a transform', () => {
  const chain = compileChain(['none'], instances, logger)
  assert.equal(runResponseBodyPhase(chain!, ctx('GET'), head()), undefined)
})

test('returns no pipeline for HEAD, 1xx and 204', () => {
  const chain = compileChain(['a'], instances, logger)!
  assert.equal(runResponseBodyPhase(chain, ctx('HEAD'), head()), undefined)
  assert.equal(runResponseBodyPhase(chain, ctx('GET'), head(204)), undefined)
  assert.equal(runResponseBodyPhase(chain, ctx('GET'), head(101)), undefined)
})

test('lets a 304 reach the hooks, which may turn it into a full response', () => {
  const seen: number[] = []
  const chain = compileChain(
    ['seer'],
    new Map([['seer', instance('seer', 1, { response_body: (_c, h) => void seen.push(h.status) })]]),
    logger,
  )!
  assert.equal(runResponseBodyPhase(chain, ctx('GET'), head(304)), undefined)
  assert.deepEqual(seen, [304])
})

test('pipes several transforms in priority order', async () => {
  const chain = compileChain(['b', 'none', 'a'], instances, logger)!
  const pipeline = runResponseBodyPhase(chain, ctx('GET'), head())
  assert.ok(pipeline)
  const out = text(pipeline.output.pipe(new PassThrough()))
  pipeline.input.end('body')
  assert.equal(await out, 'body+a+b')
})

test('reports a throwing hook as a failure and logs it with the phase', () => {
  const chain = compileChain(['a', 'boom'], instances, logger)!
  assert.equal(runResponseBodyPhase(chain, ctx('GET'), head()), false)
  assert.equal(logs.at(-1)?.phase, 'response_body')
  assert.equal(logs.at(-1)?.plugin, 'boom')
})

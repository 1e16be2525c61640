// A config of 5,000 upstreams and 5,000 locations applies and routes, on a real gateway and
// real backends; how long it takes is measured in bench/README.md, not asserted here.
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { configHash } from '@fleetgate/schema'
import { freePort, startBackend, type TestBackend } from '@fleetgate/testkit'
import { request } from 'undici'
import { createGateway, type Gateway } from '../../src/gateway.ts'
import { recordingLogger, tomlConfig } from '../tls/tls-fixture.ts'

const COUNT = 5000
const backends: TestBackend[] = []
let gateway: Gateway | undefined

after(async () => {
  await gateway?.shutdown()
  await Promise.all(backends.map((b) => b.close()))
})

/** COUNT upstreams u0..u4999 (the last one on `lastAddr`) and a location per upstream; `tag` goes into every location. */
function bigToml(listen: string, addr: string, lastAddr: string, tag: string): string {
  const parts: string[] = []
  for (let i = 0; i < COUNT; i++) parts.push(`[upstreams.u${i}]\naddrs = ["${i === COUNT - 1 ? lastAddr : addr}"]\n`)
  for (let i = 0; i < COUNT; i++) parts.push(`[locations.l${i}]\nupstream = "u${i}"\npath = "/p${i}/"\nheaders_set = ["x-tag: ${tag}"]\n`)
  const names = Array.from({ length: COUNT }, (_, i) => `"l${i}"`).join(', ')
  parts.push(`[servers.main]\naddr = "${listen}"\nlocations = [${names}]\n`)
  return parts.join('\n')
}

test('a config of 5,000 upstreams routes to the last one, and a reload keeps the unchanged upstreams', async () => {
  const other = await startBackend('other')
  const last = await startBackend('last')
  backends.push(other, last)
  const port = await freePort()
  gateway = createGateway({ logger: recordingLogger().logger })
  const apply = async (generation: number, tag: string) => {
    const config = tomlConfig(bigToml(`127.0.0.1:${port}`, other.addr, last.addr, tag))
    await (gateway as Gateway).apply(config, { generation, sha256: configHash(config), source: 'test' })
  }
  const get = async (path: string) => {
    const res = await request(`http://127.0.0.1:${port}${path}`)
    await res.body.text()
    return [res.statusCode, res.headers['x-backend']]
  }

  await apply(1, 'one')
  assert.deepEqual(await get(`/p${COUNT - 1}/x`), [200, 'last'])
  assert.equal(last.last?.headers['x-tag'], 'one')
  const first = gateway.current?.upstreams.get('u0')
  await apply(2, 'two')
  assert.equal(gateway.current?.meta.generation, 2)
  assert.equal(gateway.current?.upstreams.get('u0'), first, 'an unchanged upstream is the same object after the reload')
  assert.deepEqual(await get(`/p${COUNT - 1}/y`), [200, 'last'])
  assert.equal(last.last?.headers['x-tag'], 'two')
  assert.deepEqual(await get('/p0/z'), [200, 'other'])
})

// Fleet-wide cache purges: POST /api/v1/cache/purge on the control plane writes purge/<id> into
// etcd, and every `fleetgate proxy --etcd` node drops the entries from its cache instances.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { FLEETGATE_BIN, startBackend, startFleet, type TestBackend, type TestFleet, waitFor } from '@fleetgate/testkit'

let fleet: TestFleet
let backend: TestBackend
let counter = 0

/** X-Cache of `path` on every node, in node order. */
async function cacheStatus(path: string): Promise<string[]> {
  return await Promise.all(
    fleet.nodes.map(async (node) => {
      const res = await fetch(`${node.url}${path}`)
      await res.text()
      assert.equal(res.status, 200)
      return res.headers.get('x-cache') ?? 'none'
    }),
  )
}

/** Fills every node's cache with `path` and checks the nodes then answer it from the cache. */
async function cached(path: string): Promise<void> {
  await cacheStatus(path)
  assert.deepEqual(await cacheStatus(path), ['HIT', 'HIT'], path)
}

async function purge(body: unknown) {
  return await fleet.api('POST', '/cache/purge', JSON.stringify(body))
}

/** Waits until every node answers `path` with a MISS (the purge reached it). */
async function missesEverywhere(path: string): Promise<void> {
  const seen = new Set<number>()
  await waitFor(
    `${path} purged on every node`,
    async () => {
      const statuses = await cacheStatus(path)
      statuses.forEach((s, i) => {
        if (s === 'MISS') seen.add(i)
      })
      return seen.size === fleet.nodes.length
    },
    10_000,
    50,
  )
}

describe('cache purge through the admin API', { timeout: 120_000 }, () => {
  before(async () => {
    backend = await startBackend('app', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=300' }).end(String(++counter))
    })
    fleet = await startFleet({ nodes: 2 })
    const config = {
      upstreams: { app: { addrs: [backend.addr] } },
      plugins: { cache: { type: 'cache' }, other_cache: { type: 'cache' } },
      locations: {
        a: { path: '/a/', upstream: 'app', plugins: ['cache'] },
        b: { path: '/b/', upstream: 'app', plugins: ['other_cache'] },
      },
      servers: { main: { addr: '127.0.0.1:0', locations: ['a', 'b'] } },
    }
    const put = await fleet.api('PUT', '/config', JSON.stringify(config))
    assert.equal(put.status, 200, JSON.stringify(put.body))
    await fleet.waitForGeneration(put.body.generation)
  })
  after(async () => {
    await fleet?.stop()
    await backend?.close()
  })

  test('a purged URL is a MISS on every node', async () => {
    await cached('/a/item?x=1')
    await cached('/a/other')
    const answer = await purge({ url: 'http://127.0.0.1/a/item?x=1' })
    assert.equal(answer.status, 202, JSON.stringify(answer.body))
    assert.match(answer.body.id, /^\d{15}-[0-9a-f]+$/)
    await missesEverywhere('/a/item?x=1')
    // Only that URL went.
    assert.deepEqual(await cacheStatus('/a/other'), ['HIT', 'HIT'])
  })

  test('a prefix purge drops every URL under it on every node', async () => {
    await cached('/a/p/1')
    await cached('/a/p/2?q')
    const answer = await purge({ prefix: 'http://127.0.0.1/a/p/*' })
    assert.equal(answer.status, 202, JSON.stringify(answer.body))
    await missesEverywhere('/a/p/1')
    await missesEverywhere('/a/p/2?q')
  })

  test('a purge naming a plugin leaves the other cache instances alone', async () => {
    await cached('/a/kept')
    await cached('/b/gone')
    // Both purges are applied in the order written: once the second shows, the first was applied.
    assert.equal((await purge({ plugin: 'other_cache', url: 'http://127.0.0.1/a/kept' })).status, 202)
    assert.equal((await purge({ plugin: 'other_cache', url: 'http://127.0.0.1/b/gone' })).status, 202)
    await missesEverywhere('/b/gone')
    assert.deepEqual(await cacheStatus('/a/kept'), ['HIT', 'HIT'])
  })

  test('fleetgate ctl purge sends a purge every node applies', async () => {
    await cached('/a/ctl')
    const args = [
      'ctl',
      'purge',
      '--server',
      fleet.adminUrl,
      '--token',
      fleet.token,
      '--plugin',
      'cache',
      '--url',
      'http://127.0.0.1/a/ctl',
    ]
    const { stdout } = await promisify(execFile)(FLEETGATE_BIN, args, { timeout: 20_000 })
    assert.match(stdout, /^purge \d{15}-[0-9a-f]+ sent to every data plane \(cache "cache"\)/)
    await missesEverywhere('/a/ctl')
    const refused = await promisify(execFile)(FLEETGATE_BIN, ['ctl', 'purge', '--server', fleet.adminUrl, '--token', fleet.token], {
      timeout: 20_000,
    }).catch((err: { code: number; stderr: string }) => err)
    assert.equal((refused as { code: number }).code, 2)
  })

  test('a purge without a token is refused with 401', async () => {
    const res = await fetch(`${fleet.adminUrl}/api/v1/cache/purge`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'http://127.0.0.1/a/item' }),
    })
    assert.equal(res.status, 401)
  })

  const invalid: Array<[string, unknown, string]> = [
    ['neither url nor prefix', {}, 'url'],
    ['both url and prefix', { url: 'http://h/a', prefix: 'http://h/*' }, 'prefix'],
    ['a relative url', { url: '/a/item' }, 'url'],
    ['a non-http url', { url: 'ftp://h/a' }, 'url'],
    ['a prefix without "*"', { prefix: 'http://h/a/' }, 'prefix'],
    ['a bad plugin name', { plugin: 'no spaces', url: 'http://h/a' }, 'plugin'],
    ['an unknown key', { url: 'http://h/a', host: 'h' }, 'host'],
    ['not an object', ['http://h/a'], ''],
  ]
  for (const [what, body, path] of invalid) {
    test(`a purge with ${what} is refused with 400`, async () => {
      const answer = await purge(body)
      assert.equal(answer.status, 400, JSON.stringify(answer.body))
      assert.ok(answer.body.errors.length > 0)
      assert.ok(
        answer.body.errors.some((e: { path: string }) => e.path === path),
        JSON.stringify(answer.body.errors),
      )
    })
  }
})

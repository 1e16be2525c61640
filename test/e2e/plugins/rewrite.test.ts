// rewrite through a real gateway process: regex rules on the upstream path, first match wins,
// query kept, after the location's own rewrite; bad rules refused when the config compiles.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import {
  FLEETGATE_BIN,
  freePort,
  type GatewayProcess,
  startBackend,
  startGateway,
  startProcess,
  type TestBackend,
} from '@fleetgate/testkit'
import { request } from 'undici'

let backend: TestBackend
let gateway: GatewayProcess
let base: string

before(async () => {
  backend = await startBackend('app')
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  gateway = await startGateway(`
[upstreams.app]
addrs = ["${backend.addr}"]
[plugins.strip_api]
type = "rewrite"
rules = ["^/api/v1/(?<rest>.*)$ /v1/$rest", "^/api/(.*)$ /$1", "^/api$ /?from=api"]
[locations.api]
upstream = "app"
path = "/api"
plugins = ["strip_api"]
[locations.legacy]
upstream = "app"
path = "/legacy"
rewrite = "/api"
plugins = ["strip_api"]
[servers.main]
addr = "127.0.0.1:${port}"
locations = ["api", "legacy"]
`)
})

after(async () => {
  await gateway?.stop()
  await backend?.close()
})

const upstreamUrl = async (path: string) => {
  const res = await request(`${base}${path}`)
  assert.equal(res.statusCode, 200)
  return ((await res.body.json()) as { url: string }).url
}

test('rewrite applies the first matching rule, with numbered and named groups', async () => {
  assert.equal(await upstreamUrl('/api/users/7'), '/users/7')
  assert.equal(await upstreamUrl('/api/v1/users'), '/v1/users')
})

test('rewrite keeps the query string, joined with & when the rule adds one', async () => {
  assert.equal(await upstreamUrl('/api/users?page=2&q=a%20b'), '/users?page=2&q=a%20b')
  assert.equal(await upstreamUrl('/api?x=1'), '/?from=api&x=1')
})

test('rewrite leaves a path no rule matches as it is', async () => {
  assert.equal(await upstreamUrl('/apix/y'), '/apix/y')
})

test('rewrite runs on the path after the location rewrite', async () => {
  assert.equal(await upstreamUrl('/legacy/orders/1'), '/orders/1')
})

test('a rule without a replacement or with a bad regex is refused with its key path', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fleetgate-rewrite-'))
  try {
    const file = join(dir, 'bad.toml')
    await writeFile(
      file,
      `[plugins.bad]\ntype = "rewrite"\nrules = ["^/ok$ /fine", "^/(unclosed /x", "/only-one-token"]\n[upstreams.app]\naddrs = ["127.0.0.1:1"]\n[locations.a]\nupstream = "app"\nplugins = ["bad"]\n[servers.main]\naddr = "127.0.0.1:1"\nlocations = ["a"]\n`,
    )
    const proc = startProcess(FLEETGATE_BIN, ['validate', file])
    const [code] = await once(proc.child, 'exit')
    assert.equal(code, 1)
    assert.match(proc.output(), /plugins\.bad\.rules\.1: /)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

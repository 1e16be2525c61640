// A location's plugins cannot be bypassed by spelling its path another way: through a real
// gateway process, "/%69pr", "//ipr" and "/x/../ipr" are routed (and forwarded) as "/ipr",
// an encoded or raw separator is refused with 400, and the backend sees the normalized path.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { freePort, type GatewayProcess, rawRequest, startBackend, startGateway, type TestBackend } from '@fleetgate/testkit'

let backend: TestBackend
let gateway: GatewayProcess
let port: number
let keepPort: number

before(async () => {
  backend = await startBackend('echo')
  port = await freePort()
  keepPort = await freePort()
  gateway = await startGateway(`
[upstreams.echo]
addrs = ["${backend.addr}"]

[plugins.no_loopback]
type = "ip_restriction"
deny = ["127.0.0.0/8"]

[locations.ipr]
upstream = "echo"
path = "/ipr"
plugins = ["no_loopback"]

[locations.api]
upstream = "echo"
path = "/api"
rewrite = "/"

[locations.items]
upstream = "echo"
path = "~^/r/(\\\\d+)$"
rewrite = '^/r/(\\d+)$ /items/$1'
priority = 10  # a regex otherwise loses to the "/" prefix

[locations.all]
upstream = "echo"
path = "/"

[servers.main]
addr = "127.0.0.1:${port}"
locations = ["ipr", "api", "items", "all"]

[servers.keep]
addr = "127.0.0.1:${keepPort}"
locations = ["ipr", "api", "items", "all"]
encoded_slashes = "keep"
`)
})

after(async () => {
  await gateway?.stop()
  await backend?.close()
})

/** Sends `target` byte for byte (no client-side normalization) and returns status and backend URL. */
async function send(target: string, to = port): Promise<{ status: number; url: string | undefined }> {
  const hits = backend.hits
  const res = await rawRequest(to, `GET ${target} HTTP/1.1\r\nHost: gw.test\r\nConnection: close\r\n\r\n`)
  const url = backend.hits > hits ? backend.last?.url : undefined
  return { status: res.status, url }
}

for (const target of ['/ipr', '/%69pr', '/%69%70%72/x', '//ipr', '///%69pr', '/./ipr', '/x/../ipr', '/%2e%2e/ipr', '/x/%2E%2e/ipr/']) {
  test(`the restricted location refuses ${target} without reaching the backend`, async () => {
    assert.deepEqual(await send(target), { status: 403, url: undefined })
  })
}

for (const target of ['/%2fipr', '/%2Fipr', '/x/..%2fipr', '/%5cipr', '/\\ipr', '/x/..\\ipr']) {
  test(`an encoded or raw separator in ${target} is refused with 400`, async () => {
    assert.deepEqual(await send(target), { status: 400, url: undefined })
  })
}

test('the backend receives the normalized path and the query untouched', async () => {
  assert.deepEqual(await send('/a//b/%7Euser/./%c3%a9/%2541?q=%69//../x'), {
    status: 200,
    url: '/a/b/~user/%C3%A9/%2541?q=%69//../x',
  })
})

test('a prefix rewrite applies to the normalized path', async () => {
  assert.deepEqual(await send('/%61pi//v1/./users'), { status: 200, url: '/v1/users' })
})

test('a regex location and its rewrite see the normalized path', async () => {
  assert.deepEqual(await send('/r/%31%32'), { status: 200, url: '/items/12' })
})

test('encoded_slashes = "keep" matches and forwards %2F and %5C as data; a raw backslash stays refused', async () => {
  // Not a separator: "/%2fipr" is not under "/ipr", and the backend gets the escape as sent (hex upper-cased).
  assert.deepEqual(await send('/%2fipr', keepPort), { status: 200, url: '/%2Fipr' })
  assert.deepEqual(await send('/projects/group%2fname/%5c?x=1', keepPort), { status: 200, url: '/projects/group%2Fname/%5C?x=1' })
  assert.deepEqual(await send('/%69pr', keepPort), { status: 403, url: undefined })
  assert.deepEqual(await send('/\\ipr', keepPort), { status: 400, url: undefined })
})

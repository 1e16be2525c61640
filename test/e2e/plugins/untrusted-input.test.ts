// What clients control and plugins must not trust, through a real gateway process and backend:
// the Origin "null" with cors credentials, the jwt cookie under hide_credentials and a bare
// token in Authorization, X-Forwarded-For entries that are not addresses (or carry a port),
// a Host that is not host[:port] in a redirect, and the headers of 304/HEAD/206 answers
// next to a compressed 200.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { gunzipSync } from 'node:zlib'
import { FLEETGATE_BIN, freePort, type GatewayProcess, rawRequest, startBackend, startGateway, type TestBackend } from '@fleetgate/testkit'
import { SignJWT } from 'jose'
import { request } from 'undici'

const SECRET = 'a-shared-secret-of-at-least-32-bytes!'
const TEXT = Buffer.from('fleetgate '.repeat(506)).subarray(0, 5056)

let backend: TestBackend
let gateway: GatewayProcess
let base: string
let port: number
let dir: string

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleetgate-untrusted-'))
  backend = await startBackend('app', (req, res) => {
    const url = req.url ?? ''
    if (url.startsWith('/doc') || url.startsWith('/plain')) {
      const headers = { 'content-type': 'text/plain', etag: '"e9"', 'cache-control': 'max-age=60' }
      const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '')
      if (range !== null) {
        const [from, to] = [Number(range[1]), Number(range[2])]
        res.writeHead(206, { ...headers, 'content-range': `bytes ${from}-${to}/${TEXT.length}` }).end(TEXT.subarray(from, to + 1))
      } else if (url.startsWith('/plain') && req.headers['if-none-match'] !== undefined) {
        // An upstream 304 as many servers send it: validators and caching headers, no Content-Type.
        res.writeHead(304, { etag: '"e9"', 'cache-control': 'max-age=60' }).end()
      } else res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : TEXT)
      return
    }
    const text = JSON.stringify({ url, headers: req.headers })
    res.writeHead(200, { 'content-type': 'application/json' }).end(text)
  })
  port = await freePort()
  base = `http://127.0.0.1:${port}`
  const loc = (name: string, plugins: string[]) =>
    `[locations.${name}]\nupstream = "app"\npath = "/${name}"\nplugins = [${plugins.map((p) => `"${p}"`).join(', ')}]\n`
  gateway = await startGateway(`
[basic]
trusted_proxies = ["127.0.0.1/32"]
[upstreams.app]
addrs = ["${backend.addr}"]

[plugins.cors_creds]
type = "cors"
allow_origins = ["https://app.example.com", "~^.*$", "https://*.example.org"]
allow_credentials = true
[plugins.cors_null]
type = "cors"
allow_origins = ["null"]
allow_credentials = true
[plugins.token]
type = "jwt"
secret = "${SECRET}"
cookie = "jwt"
hide_credentials = true
[plugins.blocked]
type = "ip_restriction"
deny = ["10.0.0.0/8"]
[plugins.to_https]
type = "redirect"
https = true
https_port = 8443
[plugins.to_prefix]
type = "redirect"
prefix = "/v2"
[plugins.store]
type = "cache"
[plugins.gz]
type = "compression"

${loc('creds', ['cors_creds'])}
${loc('sandbox', ['cors_null'])}
${loc('token', ['token'])}
${loc('blocked', ['blocked'])}
${loc('secure', ['to_https'])}
${loc('legacy', ['to_prefix'])}
${loc('doc', ['store', 'gz'])}
${loc('plain', ['gz'])}
[servers.main]
addr = "127.0.0.1:${port}"
locations = ["creds", "sandbox", "token", "blocked", "secure", "legacy", "doc", "plain"]
`)
})

after(async () => {
  await gateway?.stop()
  await backend?.close()
  await rm(dir, { recursive: true, force: true })
})

async function call(path: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' | 'OPTIONS' = 'GET') {
  const res = await request(`${base}${path}`, { method, headers })
  const body = Buffer.from(await res.body.arrayBuffer())
  return {
    status: res.statusCode,
    headers: res.headers,
    body,
    upstream: () => JSON.parse(body.toString()) as { headers: Record<string, string> },
  }
}

function validate(toml: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const file = join(dir, `config-${Math.random().toString(36).slice(2)}.toml`)
    void writeFile(file, toml).then(() =>
      execFile(FLEETGATE_BIN, ['validate', file], (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
      ),
    )
  })
}

describe('cors', () => {
  test('never echoes the origin "null" with credentials, even where a regex would match it', async () => {
    const res = await call('/creds/x', { origin: 'null' })
    assert.equal(res.headers['access-control-allow-origin'], undefined)
    assert.equal(res.headers['access-control-allow-credentials'], undefined)
    const preflight = await call('/creds/x', { origin: 'null', 'access-control-request-method': 'GET' }, 'OPTIONS')
    assert.equal(preflight.status, 403)
    const allowed = await call('/creds/x', { origin: 'https://app.example.com' })
    assert.equal(allowed.headers['access-control-allow-origin'], 'https://app.example.com')
    assert.equal(allowed.headers['access-control-allow-credentials'], 'true')
  })

  test('echoes "null" when it is listed explicitly', async () => {
    const res = await call('/sandbox/x', { origin: 'null' })
    assert.equal(res.headers['access-control-allow-origin'], 'null')
  })

  test('validation refuses allow_credentials with "*", listed or by default, naming allow_origins', async () => {
    for (const origins of ['', 'allow_origins = ["https://a.example.com", "*"]\n']) {
      const { code, out } = await validate(`[plugins.c]\ntype = "cors"\nallow_credentials = true\n${origins}`)
      assert.equal(code, 1, out)
      assert.match(out, /plugins\.c\.allow_origins: allow_credentials = true cannot go with "\*": list the origins explicitly/)
    }
    const ok = await validate('[plugins.c]\ntype = "cors"\nallow_credentials = true\nallow_origins = ["https://a.example.com"]\n')
    assert.equal(ok.code, 0, ok.out)
  })
})

describe('jwt', () => {
  const token = () =>
    new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(new TextEncoder().encode(SECRET))

  test('hide_credentials strips the token cookie and keeps the other cookies', async () => {
    const res = await call('/token/x', { cookie: `a=1; jwt=${await token()}; b=2` })
    assert.equal(res.status, 200)
    assert.equal(res.upstream().headers.cookie, 'a=1; b=2')
  })

  test('hide_credentials drops a Cookie header left empty', async () => {
    const res = await call('/token/x', { cookie: `jwt=${await token()}` })
    assert.equal(res.status, 200)
    assert.equal(res.upstream().headers.cookie, undefined)
  })

  test('takes a bare JWT in Authorization, without "Bearer "', async () => {
    const res = await call('/token/x', { authorization: await token() })
    assert.equal(res.status, 200)
    assert.equal(res.upstream().headers.authorization, undefined)
  })

  test('counts another Authorization scheme as no token: the plain challenge', async () => {
    const res = await call('/token/x', { authorization: 'Basic YTpi' })
    assert.equal(res.status, 401)
    assert.equal(res.headers['www-authenticate'], 'Bearer')
  })
})

describe('X-Forwarded-For from a trusted proxy', () => {
  test('an entry that is not an address ends the walk: the peer is the client, never the garbage', async () => {
    const res = await call('/blocked/x', { 'x-forwarded-for': '8.8.8.8, garbage' })
    assert.equal(res.status, 200)
    assert.equal(res.upstream().headers['x-real-ip'], '127.0.0.1')
  })

  test('an entry with a port is the address without it, so deny rules apply', async () => {
    assert.equal((await call('/blocked/x', { 'x-forwarded-for': '10.1.1.1:1234' })).status, 403)
    assert.equal((await call('/blocked/x', { 'x-forwarded-for': ' [2001:db8::1]:443' })).upstream().headers['x-real-ip'], '2001:db8::1')
    assert.equal((await call('/blocked/x', { 'x-forwarded-for': '9.9.9.9:80' })).upstream().headers['x-real-ip'], '9.9.9.9')
  })
})

describe('redirect', () => {
  for (const host of ['evil.com/@x', 'evil.com\\x', 'evil.com?x', 'evil.com#x']) {
    test(`answers 400 instead of building a Location from Host ${JSON.stringify(host)}`, async () => {
      for (const path of ['/secure/p', '/legacy/p']) {
        const res = await rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)
        assert.equal(res.status, 400, res.head)
        assert.equal(res.headers.location, undefined)
        assert.equal(res.headers['x-fleetgate-error']?.[0], 'BAD_REQUEST')
      }
    })
  }

  test('still redirects valid hosts: names, IPv4, [IPv6], with ports', async () => {
    for (const [host, location] of [
      ['shop.example.com:8080', 'https://shop.example.com:8443/secure/p'],
      ['10.0.0.1', 'https://10.0.0.1:8443/secure/p'],
      ['[::1]:80', 'https://[::1]:8443/secure/p'],
    ]) {
      const res = await rawRequest(port, `GET /secure/p HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)
      assert.equal(res.status, 301, res.head)
      assert.equal(res.headers.location?.[0], location)
    }
  })
})

describe('cache and compression', () => {
  const gzip = { 'accept-encoding': 'gzip' }

  test('a 304 carries the weak ETag and the Vary of the compressed 200, and no identity Content-Length', async () => {
    const full = await call('/doc/a', gzip)
    assert.equal(full.status, 200)
    assert.equal(full.headers['content-encoding'], 'gzip')
    assert.equal(full.headers.etag, 'W/"e9"')
    assert.match(String(full.headers.vary), /Accept-Encoding/i)
    assert.deepEqual(gunzipSync(full.body), TEXT)
    const hit = await call('/doc/a', { ...gzip, 'if-none-match': 'W/"e9"' })
    assert.equal(hit.status, 304)
    assert.equal(hit.headers['x-cache'], 'HIT')
    assert.equal(hit.headers.etag, 'W/"e9"')
    assert.match(String(hit.headers.vary), /Accept-Encoding/i)
    assert.equal(hit.headers['content-length'], undefined)
  })

  test('a 304 for a client without gzip keeps the strong ETag and still varies', async () => {
    const hit = await call('/doc/a', { 'accept-encoding': 'identity', 'if-none-match': '"e9"' })
    assert.equal(hit.status, 304)
    assert.equal(hit.headers.etag, '"e9"')
    assert.match(String(hit.headers.vary), /Accept-Encoding/i)
  })

  test("an upstream 304 to a client holding the compressed answer carries that answer's ETag and Vary", async () => {
    const res = await call('/plain/a', { ...gzip, 'if-none-match': 'W/"e9"' })
    assert.equal(res.status, 304)
    assert.equal(res.headers.etag, 'W/"e9"')
    assert.match(String(res.headers.vary), /Accept-Encoding/i)
  })

  test('HEAD carries the headers of the compressed GET', async () => {
    for (const path of ['/doc/a', '/plain/h']) {
      const res = await call(path, gzip, 'HEAD')
      assert.equal(res.status, 200)
      assert.equal(res.headers.etag, 'W/"e9"', path)
      assert.match(String(res.headers.vary), /Accept-Encoding/i, path)
      assert.equal(res.headers['content-encoding'], 'gzip', path)
      assert.equal(res.headers['content-length'], undefined, path)
    }
  })

  test('a 206 varies on Accept-Encoding and keeps its strong ETag (a range of the identity bytes)', async () => {
    const res = await call('/doc/a', { ...gzip, range: 'bytes=0-9' })
    assert.equal(res.status, 206)
    assert.deepEqual(res.body, TEXT.subarray(0, 10))
    assert.equal(res.headers.etag, '"e9"')
    assert.match(String(res.headers.vary), /Accept-Encoding/i)
  })
})

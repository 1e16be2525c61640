// Access logs through a real gateway: each preset, a custom format with many variables, and a
// log path that cannot be written.
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { freePort, type GatewayProcess, logLines, startBackend, startGateway, type TestBackend, waitFor } from '@fleetgate/testkit'

const PRESETS = ['combined', 'common', 'short', 'tiny', 'json'] as const
const CUSTOM =
  '{method}|{uri}|{path}|{query}|{host}|{scheme}|{proto}|{remote}|{client_ip}|{user_agent}|{referer}|{request_id}|' +
  '{>x-tenant}|{~session}|{status}|{size}|{<x-backend}|{latency}|{ttfb}|{upstream_connect_time}|{upstream_header_time}|' +
  '{upstream_response_time}|{upstream}|{upstream_addr}|{upstream_status}|{attempts}|{retries}|{tls_version}|{tls_cipher}|' +
  '{tls_sni}|{server}|{location}|{error}|{>authorization}|{time_clf}'

let backend: TestBackend
let gateway: GatewayProcess
let dir: string
const ports = new Map<string, number>()

async function get(server: string, path: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${ports.get(server)}${path}`, { headers })
  await res.arrayBuffer()
  return res.status
}

before(async () => {
  backend = await startBackend('api')
  dir = await mkdtemp(join(tmpdir(), 'fleetgate-access-log-'))
  await writeFile(join(dir, 'not-a-dir'), 'x')
  let servers = ''
  for (const name of [...PRESETS, 'custom', 'broken']) {
    const port = await freePort()
    ports.set(name, port)
    const format = name === 'custom' ? CUSTOM : name === 'broken' ? 'combined' : name
    const path = name === 'broken' ? join(dir, 'not-a-dir', 'access.log') : join(dir, `${name}.log`)
    servers += `
[servers.${name}]
addr = "127.0.0.1:${port}"
locations = ["api"]
access_log = ${JSON.stringify(format)}
access_log_path = ${JSON.stringify(path)}
`
  }
  gateway = await startGateway(`
[upstreams.api]
addrs = ["${backend.addr}"]

[locations.api]
upstream = "api"
path = "/api"
${servers}`)
})

after(async () => {
  await gateway?.stop()
  await backend?.close()
  await rm(dir, { recursive: true, force: true })
})

describe('access log presets', () => {
  test('combined writes the Apache combined format', async () => {
    await get('combined', '/api/a?x=1', { referer: 'http://ref.example/', 'user-agent': 'probe/1' })
    const [line] = await logLines(join(dir, 'combined.log'), 1)
    assert.match(
      String(line),
      /^127\.0\.0\.1 - - \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET \/api\/a\?x=1 HTTP\/1\.1" 200 \d+ "http:\/\/ref\.example\/" "probe\/1"$/,
    )
  })
  test('common writes the Apache common format', async () => {
    await get('common', '/api/b')
    const [line] = await logLines(join(dir, 'common.log'), 1)
    assert.match(String(line), /^127\.0\.0\.1 - - \[[^\]]+\] "GET \/api\/b HTTP\/1\.1" 200 \d+$/)
  })
  test('a request with a body is logged with its remote address, and its connection stays usable', async () => {
    // Node lets go of req.socket once such a request has ended: {remote} used to throw there,
    // dropping the line (and the keep-alive connection with it).
    const res = await fetch(`http://127.0.0.1:${ports.get('common')}/api/post`, { method: 'POST', body: 'x=1' })
    assert.equal(res.status, 200)
    await res.arrayBuffer()
    assert.equal(await get('common', '/api/after-post'), 200)
    const text = (await logLines(join(dir, 'common.log'), 3)).join('\n')
    assert.match(text, /^127\.0\.0\.1 - - \[[^\]]+\] "POST \/api\/post HTTP\/1\.1" 200 \d+$/m)
    assert.match(text, /^127\.0\.0\.1 - - \[[^\]]+\] "GET \/api\/after-post HTTP\/1\.1" 200 \d+$/m)
  })
  test('short writes remote, request, status, size and latency', async () => {
    await get('short', '/api/c')
    const [line] = await logLines(join(dir, 'short.log'), 1)
    assert.match(String(line), /^127\.0\.0\.1 GET \/api\/c HTTP\/1\.1 200 \d+ - [\d.]+ ms$/)
  })
  test('tiny writes request, status, size and latency', async () => {
    await get('tiny', '/api/d')
    const [line] = await logLines(join(dir, 'tiny.log'), 1)
    assert.match(String(line), /^GET \/api\/d 200 \d+ - [\d.]+ ms$/)
  })
  test('json writes one JSON object per request', async () => {
    await get('json', '/api/e?q=2')
    await get('json', '/missing')
    const [ok, missing] = (await logLines(join(dir, 'json.log'), 2)).map((l) => JSON.parse(l) as Record<string, unknown>)
    assert.equal(ok?.path, '/api/e')
    assert.equal(ok?.query, 'q=2')
    assert.equal(ok?.status, 200)
    assert.equal(ok?.upstream, 'api')
    assert.equal(ok?.upstream_addr, backend.addr)
    assert.equal(ok?.server, 'json')
    assert.equal(typeof ok?.latency, 'number')
    assert.equal(missing?.status, 404)
    assert.equal(missing?.error, 'NO_ROUTE')
    assert.equal(missing?.upstream, null)
  })
})

describe('custom access log format', () => {
  test('fills every variable and redacts the authorization header', async () => {
    await get('custom', '/api/f?k=v', {
      'x-tenant': 't1',
      cookie: 'a=1; session=s3cr3t-id',
      'x-request-id': 'req-42',
      authorization: 'Bearer top-secret',
      'user-agent': 'probe/2',
    })
    const [line] = await logLines(join(dir, 'custom.log'), 1)
    const f = String(line).split('|')
    assert.equal(f.length, 35)
    assert.deepEqual(f.slice(0, 7), ['GET', '/api/f?k=v', '/api/f', 'k=v', `127.0.0.1:${ports.get('custom')}`, 'http', 'HTTP/1.1'])
    assert.deepEqual(f.slice(7, 15), ['127.0.0.1', '127.0.0.1', 'probe/2', '-', 'req-42', 't1', 's3cr3t-id', '200'])
    assert.ok(Number(f[15]) > 0, 'size')
    assert.equal(f[16], 'api', 'response header from the backend')
    for (const i of [17, 18, 19, 20, 21]) assert.ok(Number(f[i]) >= 0 && f[i] !== '-', `timing field ${i}: ${f[i]}`)
    assert.deepEqual(f.slice(22, 27), ['api', backend.addr, '200', '1', '0'])
    assert.deepEqual(f.slice(27, 30), ['-', '-', '-'], 'no TLS on a plain listener')
    assert.deepEqual(f.slice(30, 34), ['custom', 'api', '-', '[redacted]'])
    assert.doesNotMatch(String(line), /top-secret/)
  })
})

describe('an access log that cannot be written', () => {
  test('is reported in the app log once and requests still succeed', async () => {
    for (let i = 0; i < 3; i++) assert.equal(await get('broken', '/api/g'), 200)
    await waitFor('the failure in the app log', () => gateway.process.output().includes('access log cannot be written'), 5_000)
    assert.equal(gateway.process.output().split('access log cannot be written').length - 1, 1)
    assert.equal(gateway.process.child.exitCode, null)
  })
})

// CORS as a browser enforces it: headless Chromium (Debian's chromium, driven by
// playwright-core) loads a page from one origin and calls the gateway on another. The allowed
// origin's preflighted request succeeds and reads an exposed header; a refused origin's request
// fails in the browser, and its preflight never reaches the backend.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { after, before, describe, test } from 'node:test'
import { freePort, type GatewayProcess, startBackend, startGateway, type TestBackend } from '@fleetgate/testkit'
import { type Browser, chromium } from 'playwright-core'

const CHROMIUM = '/usr/bin/chromium'

/** A page server: every path answers the same small HTML page. */
async function startOrigin(): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>origin</title>'),
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` }
}

describe('CORS in a real browser', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} missing (Debian package chromium)` }, () => {
  let backend: TestBackend
  let gateway: GatewayProcess
  let allowed: Awaited<ReturnType<typeof startOrigin>>
  let refused: Awaited<ReturnType<typeof startOrigin>>
  let browser: Browser
  let apiUrl: string

  before(async () => {
    backend = await startBackend('api')
    ;[allowed, refused] = await Promise.all([startOrigin(), startOrigin()])
    const port = await freePort()
    // "localhost" vs "127.0.0.1": the API is cross-origin for both page servers.
    apiUrl = `http://localhost:${port}`
    gateway = await startGateway(`
[upstreams.api]
addrs = ["${backend.addr}"]

[plugins.cors]
type = "cors"
allow_origins = ["${allowed.url}"]
allow_methods = ["GET", "PUT"]
allow_headers = ["x-token", "content-type"]
expose_headers = ["x-backend"]
max_age = 60

[locations.api]
upstream = "api"
plugins = ["cors"]

[servers.main]
addr = "127.0.0.1:${port}"
locations = ["api"]
`)
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] })
  })

  after(async () => {
    await browser?.close()
    await gateway?.stop()
    await backend?.close()
    await new Promise((r) => allowed?.server.close(r))
    await new Promise((r) => refused?.server.close(r))
  })

  /** Runs a preflighted PUT from a page of `origin` to the gateway; the page reports what it could see. */
  async function callFrom(
    origin: string,
  ): Promise<{ ok: true; status: number; backend: string | null; body: string } | { ok: false; error: string }> {
    const page = await browser.newPage()
    try {
      await page.goto(`${origin}/`)
      return await page.evaluate(async (url) => {
        try {
          const res = await fetch(`${url}/items/1`, {
            method: 'PUT',
            headers: { 'x-token': 'abc', 'content-type': 'application/json' },
            body: '{"name":"x"}',
          })
          return { ok: true as const, status: res.status, backend: res.headers.get('x-backend'), body: await res.text() }
        } catch (err) {
          return { ok: false as const, error: String(err) }
        }
      }, apiUrl)
    } finally {
      await page.close()
    }
  }

  test('an allowed origin passes the preflight, reaches the backend and reads the exposed header', async () => {
    const before = backend.hits
    const result = await callFrom(allowed.url)
    assert.ok(result.ok, `the browser blocked an allowed origin: ${JSON.stringify(result)}`)
    assert.equal(result.status, 200)
    assert.equal(result.backend, 'api', 'X-Backend is exposed to the page')
    assert.equal(JSON.parse(result.body).method, 'PUT')
    assert.equal(backend.hits, before + 1, 'only the PUT reached the backend: the gateway answered the preflight')
    assert.equal(backend.last?.headers['x-token'], 'abc')
  })

  test('a refused origin is blocked by the browser and nothing reaches the backend', async () => {
    const before = backend.hits
    const result = await callFrom(refused.url)
    assert.equal(result.ok, false, `the browser let a refused origin through: ${JSON.stringify(result)}`)
    assert.match((result as { error: string }).error, /TypeError|Failed to fetch/)
    assert.equal(backend.hits, before, 'the refused preflight stopped at the gateway')
  })
})

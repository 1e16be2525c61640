// What the browser tests of the web console run against: a real etcd, `fleetgate control-plane`
// (admin and read-only tokens), one `fleetgate proxy --etcd` data plane in front of a backend, and
// a headless chromium page that records dialogs, script errors and CSP violations.
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FLEETGATE_BIN, freePort, startBackend, startEtcd, startProcess, type TestBackend, waitFor } from '@fleetgate/testkit'
import { chromium, type Locator, type Page } from 'playwright-core'

/** Debian's chromium. */
export const CHROMIUM = '/usr/bin/chromium'

/** An admin API answer. */
// biome-ignore lint/suspicious/noExplicitAny: tests read the answers field by field
export type Answer = { status: number; body: any }

/** The running console and its helpers. */
export interface ConsoleFixture {
  readonly adminUrl: string
  /** Base URL of the data plane's `main` server. */
  readonly nodeUrl: string
  readonly adminToken: string
  readonly viewerToken: string
  readonly backend: TestBackend
  readonly page: Page
  /** The generation of the config the fixture applied first (the node serves it). */
  readonly firstGeneration: number
  /** JS dialogs the page opened (alert, confirm...): a script injected through a value would show here. */
  readonly dialogs: string[]
  /** Uncaught page errors and CSP violations. */
  readonly pageErrors: string[]
  /** Calls the admin API with the admin token. */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer>
  /** Loads the console afresh at `#/route` (a new document each time, as a reload does). */
  open(route: string): Promise<void>
  stop(): Promise<void>
}

/** Starts everything; on a failure part-way, stops what was started and rethrows. */
export async function startConsole(): Promise<ConsoleFixture> {
  const stops: Array<() => Promise<unknown>> = []
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch(() => {})
  }
  try {
    return await launch(stops, stop)
  } catch (err) {
    await stop()
    throw err
  }
}

async function launch(stops: Array<() => Promise<unknown>>, stop: () => Promise<void>): Promise<ConsoleFixture> {
  const adminToken = randomBytes(24).toString('hex')
  const viewerToken = randomBytes(24).toString('hex')
  const dir = await mkdtemp(join(tmpdir(), 'fleetgate-ui-'))
  stops.push(() => rm(dir, { recursive: true, force: true }))
  const cluster = `ui${randomBytes(3).toString('hex')}`
  const [adminPort, nodePort, statusPort] = [await freePort(), await freePort(), await freePort()]
  const adminUrl = `http://127.0.0.1:${adminPort}`
  const statusUrl = `http://127.0.0.1:${statusPort}`
  const [etcd, backend] = await Promise.all([startEtcd(), startBackend('api')])
  stops.push(
    () => etcd.stop(),
    () => backend.close(),
  )
  const launchingBrowser = chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] })
  stops.push(async () => (await launchingBrowser).close())
  const controlPlane = startProcess(
    FLEETGATE_BIN,
    ['control-plane', '--etcd', etcd.endpoint, '--cluster', cluster, '--listen', `127.0.0.1:${adminPort}`],
    { env: { FLEETGATE_ADMIN_TOKEN: adminToken, FLEETGATE_READONLY_TOKEN: viewerToken } },
  )
  stops.push(() => controlPlane.stop())
  await waitFor('control plane /readyz', async () => (await fetch(`${adminUrl}/readyz`).catch(() => null))?.ok, 20_000).catch((err) => {
    throw new Error(`${err.message}\n${controlPlane.output()}`)
  })
  const api: ConsoleFixture['api'] = async (method, path, body, headers = {}) => {
    const res = await fetch(`${adminUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    })
    return { status: res.status, body: await res.json() }
  }
  const put = await api('PUT', '/config', {
    upstreams: { api: { addrs: [backend.addr] } },
    locations: { api: { upstream: 'api', path: '/' } },
    servers: { main: { addr: '127.0.0.1:0', locations: ['api'] } },
  })
  if (put.status !== 200) throw new Error(`initial config refused: ${JSON.stringify(put.body)}`)
  const node = startProcess(FLEETGATE_BIN, [
    'proxy',
    ...['--etcd', etcd.endpoint, '--cluster', cluster, '--node-id', 'node1', '--cache-file', join(dir, 'node1.json')],
    ...['--status-addr', `127.0.0.1:${statusPort}`, '--listen', `main=127.0.0.1:${nodePort}`, '--heartbeat-interval', '500ms'],
  ])
  stops.push(() => node.stop())
  const nodeGeneration = async () => {
    const res = await fetch(`${statusUrl}/status`).catch(() => null)
    return res?.ok ? ((await res.json()) as { generation?: number }).generation : undefined
  }
  await waitFor('node at the first generation', async () => (await nodeGeneration()) === put.body.generation, 20_000).catch((err) => {
    throw new Error(`${err.message}\n${node.output()}`)
  })
  const page = await (await launchingBrowser).newPage({ viewport: { width: 1280, height: 900 } })
  page.setDefaultTimeout(8000)
  const dialogs: string[] = []
  const pageErrors: string[] = []
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message())
    void dialog.dismiss()
  })
  page.on('pageerror', (err) => pageErrors.push(err.message))
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy|Refused to/.test(msg.text())) pageErrors.push(msg.text())
  })
  let loads = 0
  return {
    adminUrl,
    nodeUrl: `http://127.0.0.1:${nodePort}`,
    adminToken,
    viewerToken,
    backend,
    page,
    firstGeneration: put.body.generation,
    dialogs,
    pageErrors,
    api,
    async open(route) {
      await page.goto(`${adminUrl}/ui/?load=${++loads}#/${route}`)
    },
    stop,
  }
}

/** Waits (bounded) until the locator's text matches `pattern`; resolves with the text. */
export async function textOf(locator: Locator, pattern: RegExp, timeoutMs = 8000): Promise<string> {
  let last = ''
  try {
    return await waitFor(
      `text ${pattern}`,
      async () => {
        last =
          (await locator
            .first()
            .textContent({ timeout: 500 })
            .catch(() => null)) ?? ''
        return pattern.test(last) ? last : undefined
      },
      timeoutMs,
      50,
    )
  } catch (err) {
    throw new Error(`${(err as Error).message}; last text: ${JSON.stringify(last.slice(0, 400))}`)
  }
}

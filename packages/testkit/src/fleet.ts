import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEtcd, type TestEtcd } from './etcd.ts'
import { FLEETGATE_BIN } from './gateway-process.ts'
import { freePort } from './ports.ts'
import { startProcess, type TestProcess } from './process.ts'
import { waitFor } from './wait.ts'

/** One data plane of a test fleet: its process and where it serves. */
export interface FleetNode {
  readonly id: string
  /** The process running now (a new one after restart()). */
  readonly process: TestProcess
  /** Base URL of the `main` server on this node. */
  readonly url: string
  readonly statusUrl: string
  readonly cacheFile: string
  status(): Promise<Record<string, unknown>>
  /** Stops the node (SIGTERM by PID). */
  stop(): Promise<void>
  /** Starts it again with the same id, ports and cache file; `waitReady` waits for /readyz. */
  restart(waitReady?: boolean): Promise<void>
}

/** An admin API answer; `body` is the parsed JSON (tests read arbitrary shapes). */
// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
export type ApiAnswer = { status: number; body: any; headers: Headers }

/** etcd, one control plane and N data planes, each a real process on loopback. */
export interface TestFleet {
  readonly etcd: TestEtcd
  readonly cluster: string
  readonly adminUrl: string
  readonly token: string
  readonly controlPlane: TestProcess
  readonly nodes: FleetNode[]
  /** Calls the admin API with the admin token; resolves with status and parsed body. */
  api(method: string, path: string, body?: string, headers?: Record<string, string>): Promise<ApiAnswer>
  /** Waits until every node's /status reports `generation`. */
  waitForGeneration(generation: number, timeoutMs?: number): Promise<void>
  stop(): Promise<void>
}

/**
 * Starts a whole fleet for a test: a real etcd, `fleetgate control-plane`, and `nodes`
 * `fleetgate proxy --etcd` processes, each with its own status port, a free port for the
 * `main` server (`--listen main=...`) and a cache file. Nothing listens beyond 127.0.0.1.
 */
export async function startFleet(options: {
  nodes: number
  cluster?: string
  /** Extra flags of every `fleetgate proxy` (for example `['--heartbeat-interval', '300ms']`). */
  nodeArgs?: readonly string[]
}): Promise<TestFleet> {
  const dir = await mkdtemp(join(tmpdir(), 'fleetgate-fleet-'))
  const etcd = await startEtcd()
  const cluster = options.cluster ?? `test${randomBytes(3).toString('hex')}`
  const token = randomBytes(24).toString('hex')
  const adminPort = await freePort()
  const adminUrl = `http://127.0.0.1:${adminPort}`
  const controlPlane = startProcess(
    FLEETGATE_BIN,
    ['control-plane', '--etcd', etcd.endpoint, '--cluster', cluster, '--listen', `127.0.0.1:${adminPort}`],
    { env: { FLEETGATE_ADMIN_TOKEN: token } },
  )
  await waitFor('control plane /readyz', async () => (await fetch(`${adminUrl}/readyz`)).ok, 20_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${controlPlane.output()}`)
  })
  const nodes: FleetNode[] = []
  for (let i = 1; i <= options.nodes; i++) nodes.push(await startNode(`node${i}`, etcd.endpoint, cluster, dir, options.nodeArgs ?? []))
  const api: TestFleet['api'] = async (method, path, body, headers = {}) => {
    const res = await fetch(`${adminUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body }),
    })
    const text = await res.text()
    let parsed: unknown = text
    try {
      parsed = JSON.parse(text)
    } catch {}
    return { status: res.status, body: parsed, headers: res.headers }
  }
  return {
    etcd,
    cluster,
    adminUrl,
    token,
    controlPlane,
    nodes,
    api,
    async waitForGeneration(generation, timeoutMs = 10_000) {
      await waitFor(
        `every node at generation ${generation}`,
        async () => {
          const all = await Promise.all(nodes.map((n) => n.status().catch(() => ({}))))
          return all.every((s) => (s as { generation?: number }).generation === generation)
        },
        timeoutMs,
        20,
      )
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()))
      await controlPlane.stop()
      await etcd.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

async function startNode(id: string, endpoint: string, cluster: string, dir: string, extra: readonly string[]): Promise<FleetNode> {
  const port = await freePort()
  const statusPort = await freePort()
  const cacheFile = join(dir, `${id}.cache.json`)
  const statusUrl = `http://127.0.0.1:${statusPort}`
  const args = ['proxy', '--etcd', endpoint, '--cluster', cluster, '--node-id', id, '--cache-file', cacheFile]
  args.push('--status-addr', `127.0.0.1:${statusPort}`, '--listen', `main=127.0.0.1:${port}`, ...extra)
  let proc = startProcess(FLEETGATE_BIN, args)
  const live = async () => {
    await waitFor(`${id} /livez`, async () => (await fetch(`${statusUrl}/livez`)).ok, 20_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${proc.output()}`)
    })
  }
  await live()
  return {
    id,
    get process() {
      return proc
    },
    url: `http://127.0.0.1:${port}`,
    statusUrl,
    cacheFile,
    status: async () => (await (await fetch(`${statusUrl}/status`)).json()) as Record<string, unknown>,
    async stop() {
      await proc.stop()
    },
    async restart(waitReady = true) {
      await proc.stop()
      proc = startProcess(FLEETGATE_BIN, args)
      await live()
      if (waitReady) await waitFor(`${id} /readyz`, async () => (await fetch(`${statusUrl}/readyz`)).ok, 20_000)
    },
  }
}

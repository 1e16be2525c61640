import { type NodeStatus, storeKeys } from '@fleetgate/schema'
import type { Store } from '@fleetgate/store'
import { waitFor } from '@fleetgate/testkit'
import pino from 'pino'
import { type FleetModeOptions, type FleetModeProxy, startFleetMode } from '../../src/index.ts'

/** Silent unless TEST_LOG names a level (for debugging a failing test). */
export const testLogger = pino({ level: process.env.TEST_LOG ?? 'silent' })

/** A valid config whose one location `/` goes to `backendAddr`, served by `[servers.main]`. */
export function configFor(backendAddr: string, extra: { upstream?: string } = {}) {
  return {
    basic: { name: 'fleet-test', grace_period: '1s' },
    upstreams: { app: { addrs: [backendAddr] } },
    locations: { root: { upstream: extra.upstream ?? 'app', path: '/' } },
    servers: { main: { addr: '127.0.0.1:0', locations: ['root'] } },
  }
}

/** Starts a fleet node on `store` with fast timers; `main` listens on a port of its own. */
export async function startNode(store: Store, nodeId: string, extra: Partial<FleetModeOptions> = {}): Promise<FleetModeProxy> {
  return await startFleetMode({
    store,
    nodeId,
    logger: testLogger,
    statusAddr: '127.0.0.1:0',
    listenOverrides: new Map([['main', '127.0.0.1:0']]),
    pollIntervalMs: 500,
    heartbeatIntervalMs: 2000,
    leaseTtlSeconds: 5,
    ...extra,
  })
}

/** GETs `path` through the node's `main` listener; resolves with the status and the answering backend. */
export async function getThrough(node: FleetModeProxy, path = '/'): Promise<{ status: number; backend: string | null }> {
  const port = node.gateway.boundPort('main')
  if (port === undefined) throw new Error('main is not listening')
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(3000) })
  await res.arrayBuffer()
  return { status: res.status, backend: res.headers.get('x-backend') }
}

/** GETs a path of the node's status listener. */
export async function getStatusPath(node: FleetModeProxy, path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${node.statusPort}${path}`, { signal: AbortSignal.timeout(3000) })
  return { status: res.status, text: await res.text() }
}

/** `nodes/<id>` as the fleet sees it, or undefined when the key is absent. */
export async function readNodeKey(store: Store, nodeId: string): Promise<NodeStatus | undefined> {
  const stored = await store.get(storeKeys.node(nodeId))
  return stored && (JSON.parse(stored.value.toString('utf8')) as NodeStatus)
}

/** Waits until the node serves generation `gen`. */
export async function waitForGeneration(node: FleetModeProxy, gen: number, timeoutMs = 10_000): Promise<void> {
  await waitFor(`generation ${gen} (now ${node.status().generation})`, () => node.status().generation === gen, timeoutMs)
}

import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { storeKeys } from '@fleetgate/schema'
import { createEtcdStore } from '@fleetgate/store'
import {
  FLEETGATE_BIN,
  freePort,
  startBackend,
  startEtcd,
  startProcess,
  type TestBackend,
  type TestEtcd,
  type TestProcess,
  waitFor,
} from '@fleetgate/testkit'
import type { FleetModeProxy } from '../../src/index.ts'
import { configFor, getStatusPath, getThrough, readNodeKey, startNode, waitForGeneration } from './fleet-fixture.ts'
import { createTestPublisher } from './test-publisher.ts'

let etcd: TestEtcd
let backendA: TestBackend
let backendB: TestBackend
let dir: string

describe('fleet data plane when etcd goes away', () => {
  before(async () => {
    ;[etcd, backendA, backendB] = await Promise.all([startEtcd(), startBackend('a'), startBackend('b')])
    dir = await mkdtemp(join(tmpdir(), 'fleetgate-fleet-'))
  })
  after(async () => {
    await Promise.all([etcd?.stop(), backendA?.close(), backendB?.close(), rm(dir, { recursive: true, force: true })])
  })

  test('keeps serving and ready while etcd is down, and applies a new generation once it is back', async () => {
    const prefix = storeKeys.prefix('outage')
    const store = createEtcdStore({ endpoints: [etcd.endpoint], prefix, callTimeoutMs: 2000 })
    const nodeStore = createEtcdStore({ endpoints: [etcd.endpoint], prefix, callTimeoutMs: 2000 })
    const publisher = createTestPublisher(store)
    let node: FleetModeProxy | undefined
    try {
      await publisher.publish(configFor(backendA.addr))
      node = await startNode(nodeStore, 'n1', { pollIntervalMs: 300 })
      const running = node
      const restarting = etcd.restart({ downMs: 3000 })
      await waitFor('etcdConnected false', async () => JSON.parse((await getStatusPath(running, '/status')).text).etcdConnected === false)
      for (let i = 0; i < 5; i++) assert.deepEqual(await getThrough(running), { status: 200, backend: 'a' })
      assert.equal((await getStatusPath(running, '/readyz')).status, 200)
      assert.equal((await getStatusPath(running, '/livez')).status, 200)
      assert.match((await getStatusPath(running, '/metrics')).text, /^fleetgate_store_connected 0$/m)
      await restarting
      await waitFor(
        'publish after etcd is back',
        async () => (await publisher.publish(configFor(backendB.addr))) !== undefined,
        10_000,
        200,
      )
      await waitForGeneration(running, publisher.gen, 20_000)
      assert.deepEqual(await getThrough(running), { status: 200, backend: 'b' })
      await waitFor('etcdConnected true', () => running.status().etcdConnected)
      await waitFor('ACK of the new generation', async () => (await readNodeKey(store, 'n1'))?.applied?.gen === publisher.gen, 10_000)
    } finally {
      await node?.stop()
      await store.close()
      await nodeStore.close()
    }
  })

  test('re-registers with its newest status after etcd expired its lease', async () => {
    const prefix = storeKeys.prefix('lease')
    const store = createEtcdStore({ endpoints: [etcd.endpoint], prefix, callTimeoutMs: 2000 })
    const nodeStore = createEtcdStore({ endpoints: [etcd.endpoint], prefix, callTimeoutMs: 2000 })
    const publisher = createTestPublisher(store)
    let node: FleetModeProxy | undefined
    try {
      await waitFor('publish', () => publisher.publish(configFor(backendA.addr)), 10_000, 200)
      node = await startNode(nodeStore, 'n1', { leaseTtlSeconds: 1, heartbeatIntervalMs: 60_000, pollIntervalMs: 60_000 })
      await waitFor('nodes/n1', async () => (await readNodeKey(store, 'n1'))?.applied?.gen === 1)
      const gen2 = await publisher.publish(configFor(backendB.addr), { stageOnly: true })
      // Cut off for longer than the TTL: etcd drops the lease and nodes/n1 while generation 2 is published.
      await etcd.whileUnreachable(async (etcdctl) => {
        await etcdctl(['put', `${prefix}current`, JSON.stringify({ gen: gen2.gen, sha256: gen2.sha256 })])
        await waitFor('lease expiry', async () => (await etcdctl(['get', `${prefix}nodes/n1`])) === '', 10_000, 200)
      })
      const running = node
      await waitForGeneration(running, 2, 20_000)
      const reported = await waitFor(
        'nodes/n1 back with generation 2',
        async () => {
          const value = await readNodeKey(store, 'n1')
          return value?.applied?.gen === 2 ? value : undefined
        },
        20_000,
        100,
      )
      assert.equal(reported.bootId, running.status().node.bootId)
    } finally {
      await node?.stop()
      await store.close()
      await nodeStore.close()
    }
  })

  test('a proxy process restarted while etcd is down serves its cache file', async () => {
    const store = createEtcdStore({ endpoints: [etcd.endpoint], prefix: storeKeys.prefix('restart') })
    const cacheFile = join(dir, 'cache.json')
    const [listenPort, statusPort] = [await freePort(), await freePort()]
    const statusUrl = `http://127.0.0.1:${statusPort}`
    const args = ['proxy', '--etcd', etcd.endpoint, '--cluster', 'restart', '--node-id', 'p1', '--cache-file', cacheFile]
    args.push('--status-addr', `127.0.0.1:${statusPort}`, '--listen', `main=127.0.0.1:${listenPort}`, '--poll-interval', '500ms')
    const status = async () => (await (await fetch(`${statusUrl}/status`)).json()) as Record<string, unknown>
    const through = async () => {
      const res = await fetch(`http://127.0.0.1:${listenPort}/`, { signal: AbortSignal.timeout(3000) })
      await res.arrayBuffer()
      return { status: res.status, backend: res.headers.get('x-backend') }
    }
    let proc: TestProcess | undefined
    try {
      // The previous test restarted etcd: a new client's first calls may fail while gRPC reconnects.
      const { sha256 } = await waitFor('publish', () => createTestPublisher(store).publish(configFor(backendA.addr)), 10_000, 200)
      proc = startProcess(FLEETGATE_BIN, args)
      await waitFor('generation 1 from etcd', async () => (await status()).generation === 1, 15_000)
      assert.deepEqual(await through(), { status: 200, backend: 'a' })
      await waitFor('cache file', async () => JSON.parse(await readFile(cacheFile, 'utf8')).gen === 1)
      assert.equal((await stat(cacheFile)).mode & 0o777, 0o600)
      assert.equal(await proc.stop(), 0)
      assert.equal(await readNodeKey(store, 'p1'), undefined, 'the node key goes with the process')

      await etcd.process.stop()
      proc = startProcess(FLEETGATE_BIN, args)
      const running = proc
      await waitFor(
        'ready from the cache',
        async () => {
          if (running.child.exitCode !== null) throw new Error(`proxy exited: ${running.output()}`)
          return (await fetch(`${statusUrl}/readyz`)).status === 200
        },
        15_000,
      )
      const cached = await status()
      assert.equal(cached.source, 'cache')
      assert.equal(cached.generation, 1)
      assert.equal(cached.sha256, sha256)
      assert.equal(cached.etcdConnected, false)
      assert.deepEqual(await through(), { status: 200, backend: 'a' })
      process.kill(running.pid, 'SIGHUP')
      await new Promise((resolve) => setTimeout(resolve, 200))
      assert.equal(running.child.exitCode, null, 'SIGHUP re-reads, it does not end the process')

      await etcd.restart()
      await waitFor('confirmed by etcd', async () => (await status()).source === 'etcd', 20_000)
      assert.equal((await status()).etcdConnected, true)
      assert.equal(await proc.stop(), 0)
    } finally {
      await proc?.stop()
      await store.close()
    }
  })
})

import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseBackendAddr, parseHealthCheck } from '@fleetgate/schema'
import { freePort, waitFor } from '@fleetgate/testkit'
import { createBackend } from '../../src/upstream/backend.ts'
import { createHealthChecker } from '../../src/upstream/health-checker.ts'
import type { Logger } from '../../src/upstream/logger.ts'
import { resolveUpstreamTls } from '../../src/upstream/tls-options.ts'
import { recordingLogger, upstreamConfig } from './upstream-config.ts'

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(handler)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { server, port: (server.address() as AddressInfo).port }
}

async function stopServer(server: Server): Promise<void> {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
}

function checkerFor(spec: string, port: number, logger: Logger = recordingLogger()) {
  const config = upstreamConfig({ addrs: [`127.0.0.1:${port}`], health_check: spec })
  const tls = resolveUpstreamTls(config)
  const backend = createBackend(parseBackendAddr(`127.0.0.1:${port}`), config, { logger, upstream: 'hc', tls })
  const checker = createHealthChecker(parseHealthCheck(spec), [backend], { logger, upstream: 'hc', tls })
  return {
    backend,
    checker,
    stop: async () => {
      await checker.stop()
      await backend.close()
    },
  }
}

describe('health checker', () => {
  test('http check marks a backend down after `failure` failed checks and up after `success` good ones', async () => {
    let status = 200
    const served = { 200: 0, 500: 0 } as Record<number, number>
    const hosts = new Set<string | undefined>()
    const { server, port } = await listen((req, res) => {
      hosts.add(req.headers.host)
      assert.equal(req.url, '/healthz?deep=1')
      served[status] = (served[status] ?? 0) + 1
      res.statusCode = status
      res.end()
    })
    // Counts served when the state flips: rounds never overlap, so they are exact.
    const flips: { msg: string; failed: number; ok: number }[] = []
    const logger = recordingLogger()
    const info = logger.info
    const warn = logger.warn
    logger.warn = (obj, msg) => {
      flips.push({ msg, failed: served[500] ?? 0, ok: served[200] ?? 0 })
      warn(obj, msg)
    }
    logger.info = (obj, msg) => {
      flips.push({ msg, failed: served[500] ?? 0, ok: served[200] ?? 0 })
      info(obj, msg)
    }
    const { backend, checker, stop } = checkerFor(
      'http://api.internal/healthz?deep=1&interval=100ms&failure=3&success=2&timeout=1s',
      port,
      logger,
    )
    try {
      checker.start()
      await waitFor('a first good check', () => (served[200] ?? 0) >= 1)
      assert.ok(backend.isUp)
      status = 500
      await waitFor('backend down', () => !backend.isUp, 5000, 10)
      assert.deepEqual(flips.at(-1), { msg: 'backend marked down by health check', failed: 3, ok: served[200] })
      assert.equal(backend.isAvailable(Date.now()), false)
      const okBefore = served[200] ?? 0
      status = 200
      await waitFor('backend up', () => backend.isUp, 5000, 10)
      assert.deepEqual(flips.at(-1), { msg: 'backend marked up by health check', failed: served[500], ok: okBefore + 2 })
      assert.deepEqual([...hosts], ['api.internal'])
    } finally {
      await stop()
      await stopServer(server)
    }
  })

  test('a 3xx answer counts as healthy', async () => {
    let hits = 0
    const { server, port } = await listen((_req, res) => {
      hits += 1
      res.writeHead(302, { location: '/elsewhere' }).end()
    })
    const { backend, checker, stop } = checkerFor('http://h/?interval=100ms&failure=1', port)
    try {
      checker.start()
      await waitFor('three checks', () => hits >= 3)
      assert.ok(backend.isUp)
    } finally {
      await stop()
      await stopServer(server)
    }
  })

  test('a check slower than the timeout fails', async () => {
    const { server, port } = await listen((_req, res) => void setTimeout(() => res.end(), 1000).unref())
    const { backend, checker, stop } = checkerFor('http://h/?interval=100ms&failure=1&timeout=100ms', port)
    try {
      checker.start()
      await waitFor('backend down', () => !backend.isUp, 3000, 10)
    } finally {
      await stop()
      await stopServer(server)
    }
  })

  test('checks of one upstream never overlap and stop() ends them', async () => {
    let active = 0
    let maxActive = 0
    let hits = 0
    const { server, port } = await listen((_req, res) => {
      hits += 1
      active += 1
      maxActive = Math.max(maxActive, active)
      setTimeout(() => {
        active -= 1
        res.end()
      }, 250).unref()
    })
    const { checker, stop } = checkerFor('http://h/?interval=100ms&timeout=2s', port)
    try {
      checker.start()
      checker.start()
      await waitFor('three checks', () => hits >= 3, 5000, 10)
      assert.equal(maxActive, 1)
      await checker.stop()
      const seen = hits
      await sleep(400)
      assert.equal(hits, seen)
    } finally {
      await stop()
      await stopServer(server)
    }
  })

  test('tcp check on a closed port marks the backend down', async () => {
    const port = await freePort()
    const { backend, checker, stop } = checkerFor('tcp://?interval=100ms&failure=2&timeout=500ms', port)
    try {
      checker.start()
      await waitFor('backend down', () => !backend.isUp, 3000, 10)
    } finally {
      await stop()
    }
  })

  test('tcp check on a listening port keeps the backend up', async () => {
    let connections = 0
    const { server, port } = await listen(() => {})
    server.on('connection', () => {
      connections += 1
    })
    const { backend, checker, stop } = checkerFor('tcp://?interval=100ms&failure=1&timeout=500ms', port)
    try {
      checker.start()
      await waitFor('three checks', () => connections >= 3, 3000, 10)
      assert.ok(backend.isUp)
    } finally {
      await stop()
      await stopServer(server)
    }
  })
})

import cluster from 'node:cluster'
import { readFile } from 'node:fs/promises'
import { startFileMode } from '@fleetgate/data-plane'
import { parseToml } from '@fleetgate/schema/runtime'
import type { Logger } from 'pino'
import { type FlagSpec, type Flags, parseFlags, parseListenOverrides } from '../args.ts'
import { startDemoBackend } from '../demo-backend.ts'
import { createLogger } from '../logger.ts'
import { onShutdown } from '../signals.ts'
import { superviseWorkers } from '../workers.ts'

/** Flags of `fleetgate proxy`. */
export const proxyFlags: Record<string, FlagSpec> = {
  config: { type: 'string', short: 'c', help: 'TOML config file (file mode)' },
  etcd: { type: 'string', help: 'etcd endpoints, comma-separated (fleet mode)' },
  cluster: { type: 'string', help: 'cluster name under /fleetgate/ (fleet mode)' },
  'node-id': { type: 'string', help: 'this node id in the fleet view (default: hostname)' },
  'cache-file': { type: 'string', help: 'last applied config, served when etcd is down at start' },
  'status-addr': { type: 'string', help: 'HOST:PORT of /livez, /readyz, /status, /metrics' },
  listen: { type: 'string', multiple: true, help: 'SERVER=HOST:PORT overriding a server address on this node' },
  'log-level': { type: 'string', help: 'trace | debug | info | warn | error' },
  'demo-backend': { type: 'boolean', help: 'also start the built-in demo backends on 127.0.0.1:9001 and :9002' },
  workers: { type: 'string', help: 'worker processes sharing the listeners (SO_REUSEPORT); default [basic] workers' },
}

/** `fleetgate proxy`: a data plane from a config file (fleet mode comes with the control plane). */
export async function proxyCommand(argv: string[]): Promise<number> {
  const { flags } = parseFlags(argv, proxyFlags)
  const logger = createLogger(flags['log-level'] as string | undefined)
  if (flags.config === undefined) {
    process.stderr.write('fleetgate proxy: --config FILE.toml is required (fleet mode with --etcd is not available yet)\n')
    return 2
  }
  const worker = workerIdentity()
  if (worker === undefined) {
    const count = await workerCount(flags)
    if (count > 1) {
      if (flags['demo-backend']) await startDemoBackends(logger)
      logger.info({ workers: count }, 'starting worker processes')
      await superviseWorkers(count, logger)
      return 0
    }
  }
  if (flags['demo-backend'] && worker === undefined) await startDemoBackends(logger)
  const proxy = await startFileMode({
    configPath: flags.config as string,
    logger,
    ...(flags['status-addr'] ? { statusAddr: flags['status-addr'] as string } : {}),
    ...(worker ? { worker } : {}),
    listenOverrides: parseListenOverrides((flags.listen as string[] | undefined) ?? []),
  })
  const level = proxy.gateway.current?.config.basic.log_level
  if (level && flags['log-level'] === undefined) logger.level = level
  process.on('SIGHUP', () => {
    logger.info('SIGHUP: reloading config')
    void proxy.reload()
  })
  await onShutdown(logger, () => proxy.stop())
  return 0
}

async function startDemoBackends(logger: Logger): Promise<void> {
  await startDemoBackend(9001, 'demo-1')
  await startDemoBackend(9002, 'demo-2')
  logger.info('demo backends on 127.0.0.1:9001 and 127.0.0.1:9002')
}

/** This process's worker id and count when it is one of several workers. */
function workerIdentity(): { id: number; count: number } | undefined {
  const id = Number(process.env.FLEETGATE_WORKER_ID)
  return cluster.isPrimary || !id ? undefined : { id, count: Number(process.env.FLEETGATE_WORKER_COUNT) }
}

/** --workers, else [basic] workers of the config file (read without validating: the gateway validates it next). */
async function workerCount(flags: Flags): Promise<number> {
  if (flags.workers !== undefined) {
    const n = Number(flags.workers)
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`--workers must be 1..64, got "${flags.workers}"`)
    return n
  }
  const parsed = parseToml(await readFile(flags.config as string, 'utf8'))
  const workers = parsed.ok ? (parsed.value.basic as { workers?: unknown } | undefined)?.workers : undefined
  return typeof workers === 'number' && Number.isInteger(workers) && workers > 1 ? Math.min(workers, 64) : 1
}

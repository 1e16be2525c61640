import cluster from 'node:cluster'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { type AcmeModeOptions, startEtcdFleetMode, startFileMode } from '@fleetgate/data-plane'
import { parseDuration, parseToml } from '@fleetgate/schema/runtime'
import type { Logger } from 'pino'
import { describeFlags, type FlagSpec, type Flags, parseFlags, parseListenOverrides } from '../args.ts'
import { readDebugTokens } from '../debug-tokens.ts'
import { startDemoBackends } from '../demo-backend.ts'
import { etcdConnection, etcdConnectionFlags } from '../etcd-flags.ts'
import { createLogger } from '../logger.ts'
import { onShutdown } from '../signals.ts'
import { signalWorkerReady, superviseWorkers } from '../workers.ts'

/** Flags of `fleetgate proxy`. */
export const proxyFlags: Record<string, FlagSpec> = {
  config: { type: 'string', short: 'c', help: 'TOML config file (file mode)' },
  etcd: { type: 'string', help: 'etcd endpoints, comma-separated (fleet mode)' },
  cluster: { type: 'string', help: 'cluster name under /fleetgate/ (fleet mode)' },
  'node-id': { type: 'string', help: 'this node id in the fleet view (default: the host name; set it when several nodes share a host)' },
  'cache-file': { type: 'string', help: 'last applied config, served when etcd is down at start' },
  'status-addr': { type: 'string', help: 'HOST:PORT of /livez, /readyz, /status, /metrics' },
  'debug-token-file': {
    type: 'string',
    help: 'tokens (one a line) of /debug/cpu-profile and /debug/heap-snapshot on the status listener (or FLEETGATE_DEBUG_TOKEN)',
  },
  listen: { type: 'string', multiple: true, help: 'SERVER=HOST:PORT overriding a server address on this node' },
  'log-level': { type: 'string', help: 'trace | debug | info | warn | error' },
  'demo-backend': { type: 'boolean', help: 'also start the built-in demo backends on 127.0.0.1:9001 and :9002' },
  workers: { type: 'string', help: 'worker processes sharing the listeners (SO_REUSEPORT); default [basic] workers' },
  'poll-interval': { type: 'string', help: 'fleet mode: anti-entropy re-read of current (default 30s)' },
  'heartbeat-interval': { type: 'string', help: 'fleet mode: rewrite of nodes/<id> with fresh figures (default 30s)' },
  ...etcdConnectionFlags,
  'no-acme': { type: 'boolean', help: "place no ACME orders from this node (a fleet node still answers the fleet's challenges)" },
  'acme-ca': { type: 'string', help: 'PEM file of an extra CA trusted for the ACME directory (private CA, test CA)' },
  'acme-dir': { type: 'string', help: 'file mode: folder of issued ACME certificates and account keys (default .fleetgate/acme)' },
  help: { type: 'boolean', short: 'h', help: 'this text' },
}

const USAGE = `usage: fleetgate proxy --config FILE.toml [flags]\n       fleetgate proxy --etcd URLS --cluster NAME [flags]\n\n${describeFlags(proxyFlags)}\n`

/** ACME options from --no-acme, --acme-ca and --acme-dir. */
function acmeOptions(flags: Flags): AcmeModeOptions {
  const ca = flags['acme-ca'] as string | undefined
  if (ca !== undefined && !existsSync(ca)) throw new Error(`--acme-ca: no such file "${ca}"`)
  return {
    enabled: flags['no-acme'] !== true,
    ...(flags['acme-ca'] ? { caFile: flags['acme-ca'] as string } : {}),
    ...(flags['acme-dir'] ? { dir: flags['acme-dir'] as string } : {}),
  }
}

/** `fleetgate proxy`: a data plane from a config file (--config) or following a fleet in etcd (--etcd). */
export async function proxyCommand(argv: string[]): Promise<number> {
  const { flags } = parseFlags(argv, proxyFlags)
  if (flags.help) {
    process.stdout.write(USAGE)
    return 0
  }
  const logger = createLogger(flags['log-level'] as string | undefined)
  if ((flags.config === undefined) === (flags.etcd === undefined)) {
    process.stderr.write(`fleetgate proxy: give either --config FILE.toml or --etcd URLS --cluster NAME\n\n${USAGE}`)
    return 2
  }
  if (flags.etcd !== undefined) return await fleetProxy(flags, logger)
  const worker = workerIdentity()
  if (worker === undefined) {
    const count = await workerCount(flags)
    if (count > 1) {
      if (flags['demo-backend']) await startDemoBackends(logger)
      logger.info({ workers: count }, 'starting worker processes')
      return await superviseWorkers(count, logger)
    }
  }
  const demoBackends = flags['demo-backend'] && worker === undefined ? await startDemoBackends(logger) : undefined
  const proxy = await startFileMode({
    configPath: flags.config as string,
    logger,
    ...(flags['status-addr'] ? { statusAddr: flags['status-addr'] as string } : {}),
    ...(worker ? { worker } : {}),
    acme: acmeOptions(flags),
    listenOverrides: parseListenOverrides((flags.listen as string[] | undefined) ?? []),
    debugTokens: await readDebugTokens(flags['debug-token-file'] as string | undefined),
  })
  signalWorkerReady()
  const level = proxy.gateway.current?.config.basic.log_level
  if (level && flags['log-level'] === undefined) logger.level = level
  process.on('SIGHUP', () => {
    logger.info('SIGHUP: reloading config')
    void proxy.reload()
  })
  await onShutdown(logger, async () => {
    await proxy.stop()
    await demoBackends?.close()
  })
  return 0
}

/**
 * Fleet mode: follows `current` of the cluster in etcd. The node id defaults to the host name, which is
 * stable across restarts (pods: the pod name); nodes sharing a host need their own --node-id.
 * SIGHUP re-reads current (and retries a rejected generation); SIGTERM drains and exits 0.
 */
async function fleetProxy(flags: Flags, logger: Logger): Promise<number> {
  if (flags.cluster === undefined) {
    process.stderr.write('fleetgate proxy: --etcd needs --cluster NAME\n')
    return 2
  }
  if (flags.workers !== undefined || flags['demo-backend']) {
    process.stderr.write('fleetgate proxy: --workers and --demo-backend work with --config only\n')
    return 2
  }
  const pollInterval = flags['poll-interval'] as string | undefined
  const heartbeatInterval = flags['heartbeat-interval'] as string | undefined
  let heartbeatIntervalMs: number | undefined
  try {
    heartbeatIntervalMs = heartbeatInterval === undefined ? undefined : parseDuration(heartbeatInterval)
  } catch (err) {
    process.stderr.write(`fleetgate proxy: --heartbeat-interval: ${(err as Error).message}\n`)
    return 2
  }
  if (heartbeatIntervalMs !== undefined && heartbeatIntervalMs < 100) {
    process.stderr.write('fleetgate proxy: --heartbeat-interval must be at least 100ms\n')
    return 2
  }
  const debugTokens = await readDebugTokens(flags['debug-token-file'] as string | undefined)
  let connection: ReturnType<typeof etcdConnection>
  try {
    connection = etcdConnection(flags)
  } catch (err) {
    process.stderr.write(`fleetgate proxy: ${(err as Error).message}\n`)
    return 2
  }
  const starting = startEtcdFleetMode({
    ...(connection.auth === undefined ? {} : { etcdAuth: connection.auth }),
    ...(connection.tls === undefined ? {} : { etcdTls: connection.tls }),
    endpoints: (flags.etcd as string)
      .split(',')
      .map((url) => url.trim())
      .filter((url) => url !== ''),
    cluster: flags.cluster as string,
    nodeId: (flags['node-id'] as string | undefined) ?? hostname(),
    logger,
    listenOverrides: parseListenOverrides((flags.listen as string[] | undefined) ?? []),
    ...(flags['cache-file'] ? { cacheFile: flags['cache-file'] as string } : {}),
    ...(flags['status-addr'] ? { statusAddr: flags['status-addr'] as string } : {}),
    ...(pollInterval ? { pollIntervalMs: parseDuration(pollInterval) } : {}),
    ...(heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs }),
    acme: acmeOptions(flags),
    debugTokens,
  })
  // Signals are handled from the start: the first read of current can take a while when etcd is down,
  // and the cache may already be serving; a SIGTERM then must still drain and exit 0.
  process.on('SIGHUP', () => {
    logger.info('SIGHUP: re-reading current')
    void starting.then((proxy) => proxy.refresh())
  })
  const stopped = onShutdown(logger, async () => await (await starting).stop())
  await starting
  await stopped
  return 0
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

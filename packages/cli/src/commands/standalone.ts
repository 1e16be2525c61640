import { mkdir, readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { type ConfigService, resolveAdminTokens, startControlPlane } from '@fleetgate/control-plane'
import { startFleetMode, watchConfigFile } from '@fleetgate/data-plane'
import type { ConfigError } from '@fleetgate/schema'
import { createLocalStore } from '@fleetgate/store'
import { describeFlags, type FlagSpec, parseFlags } from '../args.ts'
import { readDebugTokens } from '../debug-tokens.ts'
import { startDemoBackends } from '../demo-backend.ts'
import { createLogger } from '../logger.ts'
import { onShutdown } from '../signals.ts'
import { importConfigFile } from '../standalone-import.ts'

/** Flags of `fleetgate standalone`. */
export const standaloneFlags: Record<string, FlagSpec> = {
  config: { type: 'string', short: 'c', help: 'TOML config imported into the store at start and whenever the file changes' },
  'data-dir': { type: 'string', help: 'folder of the local store: versions, history, cache, admin token (required)' },
  listen: { type: 'string', help: 'HOST:PORT of the admin API (default 127.0.0.1:9180)' },
  'status-addr': { type: 'string', help: 'HOST:PORT of /livez, /readyz, /status, /metrics (default [metrics] addr)' },
  'debug-token-file': {
    type: 'string',
    help: "tokens (one a line) of the status listener's /debug profiling endpoints (or FLEETGATE_DEBUG_TOKEN)",
  },
  'admin-token-file': { type: 'string', help: 'file of admin tokens, one a line (or FLEETGATE_ADMIN_TOKEN)' },
  'readonly-token-file': { type: 'string', help: 'file of read-only tokens, one a line (or FLEETGATE_READONLY_TOKEN)' },
  'log-level': { type: 'string', help: 'trace | debug | info | warn | error' },
  'demo-backend': { type: 'boolean', help: 'also start the built-in demo backends on 127.0.0.1:9001 and :9002' },
  help: { type: 'boolean', short: 'h', help: 'this text' },
}

const USAGE = `usage: fleetgate standalone --data-dir DIR [--config FILE.toml] [flags]\n\n${describeFlags(standaloneFlags)}\n`

/**
 * `fleetgate standalone`: control plane (admin API, versions, history, rollback) and data plane
 * in one process on a local store in DIR, with no etcd.
 */
export async function standaloneCommand(argv: string[]): Promise<number> {
  const { flags } = parseFlags(argv, standaloneFlags)
  if (flags.help) {
    process.stdout.write(USAGE)
    return 0
  }
  if (flags['data-dir'] === undefined) {
    process.stderr.write(`fleetgate standalone: --data-dir is required\n\n${USAGE}`)
    return 2
  }
  const dataDir = resolve(flags['data-dir'] as string)
  const configPath = flags.config === undefined ? undefined : resolve(flags.config as string)
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const logger = createLogger(flags['log-level'] as string | undefined)
  const debugTokens = await readDebugTokens(flags['debug-token-file'] as string | undefined)
  const { tokens, generated } = await resolveAdminTokens({
    adminTokenFile: flags['admin-token-file'] as string | undefined,
    readonlyTokenFile: flags['readonly-token-file'] as string | undefined,
    tokenStore: join(dataDir, 'admin-token'),
  })
  if (generated !== null) {
    process.stderr.write(
      `fleetgate standalone: generated an admin token (kept in ${join(dataDir, 'admin-token')}; shown only this once):\n\n  ${generated}\n\n`,
    )
  }
  const demoBackends = flags['demo-backend'] ? await startDemoBackends(logger) : undefined
  const store = await createLocalStore({ dir: join(dataDir, 'store') })
  const controlPlane = await startControlPlane({ store, listen: (flags.listen as string | undefined) ?? '127.0.0.1:9180', tokens, logger })
  const importFile = async () => {
    if (configPath === undefined) return
    await importConfigFile(configPath, await readFile(configPath, 'utf8'), controlPlane.service, join(dataDir, 'imported.sha256'), logger)
    // Imported, or back to what was imported last: an earlier rejection no longer stands.
    controlPlane.service.reportImport(undefined)
  }
  const reportRejected = (err: Error & { errors?: ConfigError[] }) => {
    logger.error(
      { path: configPath, errors: err.errors, err: err.errors ? undefined : err },
      'config file rejected; the running config keeps serving',
    )
    // GET /publish (and ctl status) show it too, until the file is fixed.
    const notImported = `(in ${configPath}, not imported; the running config keeps serving)`
    controlPlane.service.reportImport(
      err.errors?.map((e) => ({ path: e.path, message: `${e.message} ${notImported}` })) ?? [
        { path: 'file', message: `${err.message} ${notImported}` },
      ],
    )
  }
  try {
    await importFile()
  } catch (err) {
    // A bad edit followed by a restart must not take the gateway down: with a published
    // generation in the store, report the file's errors as a rejected edit is reported, and serve it.
    const generation = await publishedGeneration(controlPlane.service).catch(() => null)
    if (generation === null) {
      await controlPlane.close()
      await store.close()
      await demoBackends?.close()
      throw err
    }
    reportRejected(err as Error)
    process.stderr.write(
      `fleetgate standalone: ${configPath}: not imported, serving generation ${generation} from the store:\n${(err as Error).message}\n`,
    )
  }
  const starting = startFleetMode({
    store,
    storeKind: 'local',
    nodeId: 'standalone',
    cacheFile: join(dataDir, 'cache.json'),
    logger,
    ...(flags['status-addr'] ? { statusAddr: flags['status-addr'] as string } : {}),
    debugTokens,
  })
  let watcher: { close(): void } | undefined
  let stopping = false
  // Signals are handled from here on: the data plane may already serve (its cache file) before
  // its first read of the store ends, and a SIGTERM then must still drain and exit 0.
  const stopped = onShutdown(logger, async () => {
    stopping = true
    watcher?.close()
    await (await starting).stop()
    await controlPlane.close()
    await store.close()
    await demoBackends?.close()
  })
  await starting
  if (configPath !== undefined && !stopping) watcher = watchConfigFile(configPath, () => void importFile().catch(reportRejected))
  logger.info({ admin: controlPlane.url, dataDir, config: configPath }, 'standalone gateway started')
  process.on('SIGHUP', () => void importFile().catch(reportRejected))
  await stopped
  return 0
}

/** The generation the store currently publishes, or null when it has none yet. */
async function publishedGeneration(service: ConfigService): Promise<number | null> {
  return (await service.publishStatus()).generation
}

import { readFile } from 'node:fs/promises'
import { type Config, ConfigValidationError, emptyFileError, validateConfigCooperatively } from '@fleetgate/schema'
import { configHash, formatConfigErrors, parseListenAddr, parseToml } from '@fleetgate/schema/runtime'
import type { Logger } from 'pino'
import { type FileAcme, startFileAcme } from './acme/file-acme.ts'
import type { AcmeModeOptions } from './acme/node-acme.ts'
import { watchConfigFile } from './config-file-watcher.ts'
import { createDebugEndpoints } from './debug-endpoints.ts'
import { createGateway, type Gateway } from './gateway.ts'
import { createMetrics } from './metrics.ts'
import { createObservability } from './observability/observability.ts'
import { openStatusServer } from './status-server.ts'

/** Options of `fleetgate proxy --config FILE`. */
export interface FileModeOptions {
  configPath: string
  logger: Logger
  statusAddr?: string
  listenOverrides?: ReadonlyMap<string, string>
  /** Worker process of several sharing listeners (SO_REUSEPORT); only worker 1 serves status. */
  worker?: { id: number; count: number }
  /** ACME certificates: on by default (worker 1 orders; every worker serves what the folder holds). */
  acme?: AcmeModeOptions
  /** Bearer tokens of the status listener's `/debug/*` profiling endpoints; none: those are 404. */
  debugTokens?: readonly string[]
}

/** A running file-mode data plane. */
export interface FileModeProxy {
  gateway: Gateway
  /** Re-reads the file and applies it if valid and changed (also on file change and SIGHUP). */
  reload(): Promise<void>
  stop(): Promise<void>
}

/**
 * Starts a data plane from a TOML file: the first load must be valid (else it throws with every
 * error); later changes that fail are logged and the running config keeps serving.
 */
export async function startFileMode(options: FileModeOptions): Promise<FileModeProxy> {
  const { logger, configPath } = options
  const metrics = createMetrics()
  const observability = createObservability({ logger, registry: metrics.registry, gateway: () => gateway })
  let loaded: Config | undefined
  const acme: FileAcme = startFileAcme({
    ...options.acme,
    enabled: options.acme?.enabled !== false && (options.worker === undefined || options.worker.id === 1),
    logger,
    loaded: () => loaded,
    onIssued: () => void reload(),
    workers: (options.worker?.count ?? 1) > 1,
  })
  const gateway: Gateway = createGateway({
    logger,
    observability,
    acmeChallenge: acme.lookup,
    reusePort: options.worker !== undefined,
    ...(options.listenOverrides ? { listenOverrides: options.listenOverrides } : {}),
  })
  let generation = 0
  let reloading = Promise.resolve()

  async function load(): Promise<void> {
    const text = await readFile(configPath, 'utf8')
    const empty = emptyFileError(text)
    if (empty !== undefined) throw new ConfigValidationError([empty])
    // Validated in steps, in place (the parsed value is ours): a big file never stalls requests
    // for the whole validation, as one synchronous loadConfigText call did.
    const parsed = parseToml(text)
    const result = parsed.ok ? await validateConfigCooperatively(parsed.value, { inPlace: true }) : parsed
    if (!result.ok) throw Object.assign(new Error(formatConfigErrors(result.errors)), { code: 'CONFIG_INVALID', errors: result.errors })
    loaded = result.config
    const config = await acme.overlay(result.config)
    const sha256 = configHash(config)
    if (sha256 === gateway.current?.meta.sha256) {
      // The file is back to what serves (a bad edit reverted): its rejection no longer stands.
      gateway.clearRejection()
      return
    }
    const started = performance.now()
    await gateway.apply(config, { generation: generation + 1, sha256, source: 'file' })
    acme.check(config)
    generation++
    metrics.configGeneration.set(generation)
    metrics.configApplies.inc({ result: 'ack' })
    metrics.configApplySeconds.set((performance.now() - started) / 1000)
  }

  await load()
  const statusAddr = options.statusAddr ?? gateway.current?.config.metrics.addr
  const servesStatus = statusAddr !== undefined && (options.worker === undefined || options.worker.id === 1)
  const status = servesStatus ? await openStatus(statusAddr) : undefined

  async function openStatus(addr: string) {
    const { host, port } = parseListenAddr(addr)
    return await openStatusServer(host, port, {
      registry: metrics.registry,
      metricsPath: gateway.current?.config.metrics.path ?? '/metrics',
      isReady: () => gateway.current !== undefined,
      status: () => ({ ...gateway.status(), etcdConnected: null, workers: options.worker?.count ?? 1 }),
      debug: options.debugTokens?.length ? createDebugEndpoints(options.debugTokens) : undefined,
    })
  }

  function reload(): Promise<void> {
    reloading = reloading.then(load).catch((err: Error & { errors?: unknown }) => {
      metrics.configApplies.inc({ result: 'nack' })
      gateway.reject(err.message)
      logger.error({ errors: err.errors, err: err.errors ? undefined : err }, 'config rejected; the previous config keeps serving')
    })
    return reloading
  }
  const watcher = watchConfigFile(configPath, () => void reload())
  if (status) logger.info({ addr: statusAddr, port: status.port }, 'status listener ready')
  return {
    gateway,
    reload,
    async stop() {
      watcher.close()
      await acme.stop()
      await gateway.shutdown()
      await observability.close()
      status?.close()
    },
  }
}

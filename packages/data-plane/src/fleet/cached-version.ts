import { canonicalJson } from '@fleetgate/schema/runtime'
import type { Logger } from 'pino'
import type { Gateway } from '../gateway.ts'
import { readConfigCache, writeConfigCache } from './config-cache.ts'
import type { AppliedVersion } from './config-sync.ts'
import { gatewayVersion } from './gateway-version.ts'

/** Applies a valid cache file with source "cache"; a bad one is logged and ignored. */
export async function applyCachedVersion(
  path: string,
  gateway: Gateway,
  logger: Logger,
): Promise<{ version: AppliedVersion; seconds: number } | undefined> {
  const started = performance.now()
  try {
    const cached = await readConfigCache(path)
    if (cached === undefined) return undefined
    const { entry, config } = cached
    await gateway.apply(config, { generation: entry.gen, sha256: entry.sha256, source: 'cache' })
    logger.info({ gen: entry.gen, savedAt: entry.savedAt }, 'serving the cached config until the config store answers')
    const version: AppliedVersion = { gen: entry.gen, sha256: entry.sha256, json: canonicalJson(entry.config), config, source: 'cache' }
    return { version, seconds: (performance.now() - started) / 1000 }
  } catch (err) {
    logger.warn({ err: (err as Error).message, path }, 'ignoring the cache file')
    return undefined
  }
}

/** Writes `version` to the cache file; a failure is logged, never thrown (serving is unaffected). */
export async function saveCachedVersion(path: string, version: AppliedVersion, logger: Logger): Promise<void> {
  try {
    const entry = {
      gen: version.gen,
      sha256: version.sha256,
      savedAt: new Date().toISOString(),
      gatewayVersion: gatewayVersion(),
      config: null,
    }
    await writeConfigCache(path, entry, version.json)
  } catch (err) {
    // Serving is unaffected; only a restart while the store is down would miss this version.
    logger.error({ err, path }, 'could not write the cache file')
  }
}

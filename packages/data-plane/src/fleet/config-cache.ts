import { randomBytes } from 'node:crypto'
import { open, readFile, rename, rm } from 'node:fs/promises'
import { type Config, validateConfig } from '@fleetgate/schema'
import { configHash, formatConfigErrors } from '@fleetgate/schema/runtime'

/**
 * The cache file: the last config this node applied from the store, so a restart while the store is
 * down still serves. It holds TLS keys and secrets, hence mode 0600.
 */
export interface ConfigCacheEntry {
  gen: number
  /** sha256 of the canonical JSON of `config` (the published content, before defaults). */
  sha256: string
  savedAt: string
  gatewayVersion: string
  config: unknown
}

/** A cache file that passed every check: its config hashes to `sha256` and validates. */
export interface LoadedCache {
  entry: ConfigCacheEntry
  config: Config
}

/**
 * Reads and checks the cache file. Resolves undefined when there is no file; throws an Error saying
 * why when the file is unreadable, corrupt, does not match its hash, or no longer validates.
 */
export async function readConfigCache(path: string): Promise<LoadedCache | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  let entry: ConfigCacheEntry
  try {
    entry = JSON.parse(text) as ConfigCacheEntry
  } catch (err) {
    throw new Error(`cache file ${path} is not JSON`, { cause: err })
  }
  if (!Number.isSafeInteger(entry?.gen) || typeof entry.sha256 !== 'string' || entry.config === undefined) {
    throw new Error(`cache file ${path} lacks gen, sha256 or config`)
  }
  const actual = configHash(entry.config)
  if (actual !== entry.sha256) throw new Error(`cache file ${path}: sha256 mismatch (file says ${entry.sha256}, content is ${actual})`)
  const result = validateConfig(entry.config)
  if (!result.ok) throw new Error(`cache file ${path} no longer validates:\n${formatConfigErrors(result.errors)}`)
  return { entry, config: result.config }
}

/**
 * Replaces the cache file atomically (with `configJson`, the JSON text of `entry.config`, used as it is): a temp file beside it (mode 0600), fsync, then rename, so a
 * crash leaves either the old file or the new one, never a torn one.
 */
export async function writeConfigCache(path: string, entry: ConfigCacheEntry, configJson?: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  const file = await open(tmp, 'wx', 0o600)
  try {
    try {
      // The umask may have narrowed the mode at creation, never widened it; chmod makes it exact.
      await file.chmod(0o600)
      // With the config's JSON at hand (a big config), splice it in rather than serialize it again.
      const text =
        configJson === undefined
          ? JSON.stringify(entry)
          : `${JSON.stringify({ ...entry, config: undefined }).slice(0, -1)},"config":${configJson}}`
      await file.writeFile(`${text}\n`)
      await file.sync()
    } finally {
      await file.close()
    }
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}

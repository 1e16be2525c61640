import { createHash } from 'node:crypto'
import { readFile, rename, writeFile } from 'node:fs/promises'
import type { ConfigService } from '@fleetgate/control-plane'
import { ConfigValidationError, parseToml } from '@fleetgate/schema'
import type { Logger } from 'pino'

/**
 * Imports a config file into the standalone store when its content changed since the last
 * import (remembered by hash in `markerFile`), so edits made through the admin API survive a
 * restart with the same file. An invalid file throws a ConfigValidationError listing every error.
 */
export async function importConfigFile(
  path: string,
  text: string,
  service: ConfigService,
  markerFile: string,
  logger: Logger,
): Promise<void> {
  const sha256 = createHash('sha256').update(text).digest('hex')
  const last = await readFile(markerFile, 'utf8').catch(() => '')
  if (last.trim() === sha256) return
  const parsed = parseToml(text)
  if (!parsed.ok) throw new ConfigValidationError(parsed.errors)
  const checked = service.validate(parsed.value)
  if (!checked.ok) throw new ConfigValidationError(checked.errors)
  const result = await service.putDesired(parsed.value, { author: `file:${path}`, message: `imported from ${path}` })
  await writeFile(`${markerFile}.tmp`, `${sha256}\n`, { mode: 0o600 })
  await rename(`${markerFile}.tmp`, markerFile)
  logger.info({ path, generation: result.generation, published: result.published, held: result.held }, 'config file imported')
}

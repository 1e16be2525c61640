import { createHash } from 'node:crypto'
import { readFile, rename, writeFile } from 'node:fs/promises'
import type { ConfigService } from '@fleetgate/control-plane'
import { ConfigValidationError, emptyFileError, parseToml } from '@fleetgate/schema'
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
  const empty = emptyFileError(text)
  if (empty !== undefined) throw new ConfigValidationError([empty])
  const sha256 = createHash('sha256').update(text).digest('hex')
  const last = await readFile(markerFile, 'utf8').catch(() => '')
  if (last.trim() === sha256) return
  const parsed = parseToml(text)
  if (!parsed.ok) throw new ConfigValidationError(parsed.errors)
  const checked = service.validate(parsed.value)
  if (!checked.ok) throw new ConfigValidationError(checked.errors)
  const kept = keepIssuedCertificates(parsed.value as Record<string, unknown>, (await service.getDesired()).value)
  if (kept.length > 0) logger.info({ certificates: kept }, 'kept ACME-issued certificates across the file import')
  const result = await service.putDesired(parsed.value, { author: `file:${path}`, message: `imported from ${path}` })
  await writeFile(`${markerFile}.tmp`, `${sha256}\n`, { mode: 0o600 })
  await rename(`${markerFile}.tmp`, markerFile)
  logger.info({ path, generation: result.generation, published: result.published, held: result.held }, 'config file imported')
}

type Table = Record<string, unknown>

/**
 * An ACME certificate is issued into the desired tree (tls_cert/tls_key inline), which the
 * file does not have: a re-import of an edited file would drop it and order again (and CAs
 * rate-limit orders). So an acme entry of the file without PEM takes the issued pair from the
 * current desired tree when it names the same directory and domains. Returns the names kept.
 */
export function keepIssuedCertificates(next: Table, current: Table): string[] {
  const nextCerts = next.certificates as Record<string, Table> | undefined
  const currentCerts = current.certificates as Record<string, Table> | undefined
  if (nextCerts === undefined || currentCerts === undefined) return []
  const kept: string[] = []
  for (const [name, cert] of Object.entries(nextCerts)) {
    const issued = currentCerts[name]
    if (cert.acme === undefined || cert.tls_cert !== undefined || cert.tls_key !== undefined || issued === undefined) continue
    const sameOrder = issued.acme === cert.acme && JSON.stringify(issued.domains ?? []) === JSON.stringify(cert.domains ?? [])
    if (!sameOrder || typeof issued.tls_cert !== 'string' || typeof issued.tls_key !== 'string') continue
    cert.tls_cert = issued.tls_cert
    cert.tls_key = issued.tls_key
    kept.push(name)
  }
  return kept
}

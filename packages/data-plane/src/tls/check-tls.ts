import type { Config, ConfigError } from '@fleetgate/schema'
import { ConfigValidationError } from '@fleetgate/schema/runtime'
import pino from 'pino'
import { createCertificateStore } from './certificate-store.ts'

/**
 * Checks what a schema cannot: every certificate, key and client CA a config names is read,
 * parsed and built into a TLS context, as the gateway does when it applies the config
 * (`fleetgate validate`). Returns the error naming the key at fault, or none. Nothing is
 * watched or fetched: the store is never started.
 */
export function checkTlsConfig(config: Config): ConfigError[] {
  try {
    createCertificateStore(config, undefined, pino({ level: 'silent' })).close()
    return []
  } catch (err) {
    if (err instanceof ConfigValidationError) return err.errors
    return [{ path: 'servers', message: (err as Error).message }]
  }
}

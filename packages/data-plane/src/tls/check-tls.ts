import type { Config, ConfigError } from '@fleetgate/schema'
import { ConfigValidationError } from '@fleetgate/schema/runtime'
import pino from 'pino'
import { createCertificateStore } from './certificate-store.ts'

/**
 * Checks what a schema cannot: every certificate, key and client CA a config names is read,
 * parsed and built into a TLS context, as the gateway does when it applies the config
 * (`fleetgate validate`). Returns an error per key at fault, or none. Nothing is watched or
 * fetched: no store is ever started.
 */
export function checkTlsConfig(config: Config): ConfigError[] {
  const whole = storeErrors(config)
  if (whole.length === 0) return []
  // The store stops at its first error. To name every one: each certificate on its own, then
  // each server with only the certificates that passed (a broken one is reported once, above).
  const errors = new Map<string, ConfigError>()
  const add = (found: ConfigError[]) => {
    for (const error of found) errors.set(`${error.path}\0${error.message}`, error)
  }
  const certificates = config.certificates ?? {}
  const good: NonNullable<Config['certificates']> = {}
  for (const [name, certificate] of Object.entries(certificates)) {
    const found = storeErrors({ ...config, servers: {}, certificates: { [name]: certificate } })
    if (found.length === 0) good[name] = certificate
    add(found)
  }
  for (const [name, server] of Object.entries(config.servers)) {
    const usable = { ...server, certificates: server.certificates.filter((c) => good[c] !== undefined || certificates[c] === undefined) }
    add(storeErrors({ ...config, certificates: good, servers: { [name]: usable } }))
  }
  // Whatever only shows with everything together (none known) is still reported.
  if (errors.size === 0) add(whole)
  return [...errors.values()]
}

function storeErrors(config: Config): ConfigError[] {
  try {
    createCertificateStore(config, undefined, pino({ level: 'silent' })).close()
    return []
  } catch (err) {
    if (err instanceof ConfigValidationError) return err.errors
    return [{ path: 'servers', message: (err as Error).message }]
  }
}

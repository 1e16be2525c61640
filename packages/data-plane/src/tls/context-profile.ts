import { createSecureContext, type SecureContextOptions } from 'node:tls'
import type { ServerConfig } from '@fleetgate/schema'
import { configError, pemSource, readPem } from './pem-source.ts'

/** How downstream client certificates are handled on a server. */
export type ClientAuth = 'off' | 'optional' | 'required'

/**
 * The per-server part of a TLS context (versions, ciphers, client CA): every certificate a
 * server serves is built with its profile. Servers with equal settings share contexts by `key`.
 */
export interface ContextProfile {
  readonly key: string
  readonly options: Readonly<Pick<SecureContextOptions, 'minVersion' | 'maxVersion' | 'ciphers' | 'ca'>>
  readonly clientAuth: ClientAuth
}

const VERSIONS: Readonly<Record<string, 'TLSv1.2' | 'TLSv1.3'>> = { '1.2': 'TLSv1.2', '1.3': 'TLSv1.3' }
const CLIENT_AUTH: readonly ClientAuth[] = ['off', 'optional', 'required']

/** Compiles and checks a server's TLS settings; throws a ConfigValidationError naming the key at fault. */
export function compileContextProfile(name: string, server: ServerConfig): ContextProfile {
  const at = `servers.${name}`
  const minVersion = VERSIONS[server.tls_min_version]
  const maxVersion = VERSIONS[server.tls_max_version ?? '1.3']
  if (server.tls_max_version !== undefined && server.tls_max_version < server.tls_min_version) {
    throw configError(`${at}.tls_max_version`, `is older than tls_min_version (${server.tls_min_version})`)
  }
  const clientAuth = CLIENT_AUTH.find((mode) => mode === server.tls_client_auth) ?? 'off'
  if (clientAuth !== 'off' && server.tls_client_ca === undefined) {
    throw configError(`${at}.tls_client_ca`, `required when tls_client_auth is "${clientAuth}"`)
  }
  const ca =
    clientAuth === 'off' || server.tls_client_ca === undefined ? undefined : readPem(pemSource(`${at}.tls_client_ca`, server.tls_client_ca))
  const options = {
    minVersion,
    maxVersion,
    ...(server.tls_ciphers === undefined ? {} : { ciphers: server.tls_ciphers }),
    ...(ca === undefined ? {} : { ca }),
  }
  // OpenSSL checks cipher lists and CA bundles only when a context is built: build one now so
  // the error names the key instead of surfacing at the first handshake.
  if (server.tls_ciphers !== undefined) probe(`${at}.tls_ciphers`, { minVersion, maxVersion, ciphers: server.tls_ciphers })
  if (ca !== undefined) {
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw configError(`${at}.tls_client_ca`, 'no PEM certificate found')
    probe(`${at}.tls_client_ca`, { ca })
  }
  return { key: JSON.stringify([minVersion, maxVersion, server.tls_ciphers ?? '', ca ?? '']), options, clientAuth }
}

function probe(key: string, options: SecureContextOptions): void {
  try {
    createSecureContext(options)
  } catch (err) {
    throw configError(key, (err as Error).message, err)
  }
}

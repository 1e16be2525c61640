import { createPrivateKey, X509Certificate } from 'node:crypto'
import { isIP } from 'node:net'
import type { UpstreamConfig } from '@fleetgate/schema'
import { configError, pemSource, readPem } from '../tls/pem-source.ts'

/** TLS settings for connections to one upstream's backends, resolved once per config. */
export interface UpstreamTls {
  /** True when backends are reached over TLS (`tls = true` or `sni` set). */
  enabled: boolean
  rejectUnauthorized: boolean
  /** Explicit `sni`; when unset the backend host is used unless it is an IP address. */
  sni: string | undefined
  /** CA bundle (PEM) from `ca`, inline or read from the path it names. */
  ca: string | undefined
  /** Client certificate (PEM, chain allowed) and key presented to backends that ask (mTLS). */
  cert: string | undefined
  key: string | undefined
}

/**
 * Resolves an upstream's TLS settings, reading PEM files now rather than per connection.
 * Throws a ConfigValidationError naming the key (under `at`, e.g. "upstreams.api") when a file
 * cannot be read, tls_cert and tls_key do not go together or the key does not match.
 */
export function resolveUpstreamTls(config: UpstreamConfig, at = 'upstream'): UpstreamTls {
  const read = (key: string, value: string | undefined) => (value === undefined ? undefined : readPem(pemSource(`${at}.${key}`, value)))
  if ((config.tls_cert === undefined) !== (config.tls_key === undefined)) {
    throw configError(`${at}.${config.tls_cert === undefined ? 'tls_cert' : 'tls_key'}`, 'tls_cert and tls_key go together')
  }
  const cert = read('tls_cert', config.tls_cert)
  const key = read('tls_key', config.tls_key)
  if (cert !== undefined && key !== undefined) checkClientPair(cert, key, at)
  return {
    enabled: config.tls || config.sni !== undefined,
    rejectUnauthorized: config.verify_cert,
    sni: config.sni,
    ca: read('ca', config.ca),
    cert,
    key,
  }
}

function checkClientPair(cert: string, key: string, at: string): void {
  let x509: X509Certificate
  try {
    x509 = new X509Certificate(cert)
  } catch (err) {
    throw configError(`${at}.tls_cert`, `certificate does not parse: ${(err as Error).message}`, err)
  }
  let matches: boolean
  try {
    matches = x509.checkPrivateKey(createPrivateKey(key))
  } catch (err) {
    throw configError(`${at}.tls_key`, `private key does not parse: ${(err as Error).message}`, err)
  }
  if (!matches) throw configError(`${at}.tls_key`, `key does not match the certificate in ${at}.tls_cert`)
}

/** Node's TLS connect options for reaching `host` with these settings. */
export function tlsConnectOptions(
  tls: UpstreamTls,
  host: string,
): { servername?: string; rejectUnauthorized: boolean; ca?: string; cert?: string; key?: string } {
  // Node refuses an IP address as SNI, so an IP backend without explicit `sni` sends none.
  const servername = tls.sni ?? (isIP(host) === 0 ? host : undefined)
  return {
    rejectUnauthorized: tls.rejectUnauthorized,
    ...(servername === undefined ? {} : { servername }),
    ...(tls.ca === undefined ? {} : { ca: tls.ca }),
    ...(tls.cert === undefined || tls.key === undefined ? {} : { cert: tls.cert, key: tls.key }),
  }
}

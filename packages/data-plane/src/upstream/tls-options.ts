import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import type { UpstreamConfig } from '@fleetgate/schema'

/** TLS settings for connections to one upstream's backends, resolved once per config. */
export interface UpstreamTls {
  /** True when backends are reached over TLS (`tls = true` or `sni` set). */
  enabled: boolean
  rejectUnauthorized: boolean
  /** Explicit `sni`; when unset the backend host is used unless it is an IP address. */
  sni: string | undefined
  /** CA bundle (PEM) from `ca`, inline or read from the path it names. */
  ca: string | undefined
}

/** Resolves an upstream's TLS settings, reading the CA file now rather than per connection. */
export function resolveUpstreamTls(config: UpstreamConfig): UpstreamTls {
  return {
    enabled: config.tls || config.sni !== undefined,
    rejectUnauthorized: config.verify_cert,
    sni: config.sni,
    ca: config.ca === undefined ? undefined : loadPem(config.ca),
  }
}

/** Node's TLS connect options for reaching `host` with these settings. */
export function tlsConnectOptions(tls: UpstreamTls, host: string): { servername?: string; rejectUnauthorized: boolean; ca?: string } {
  // Node refuses an IP address as SNI, so an IP backend without explicit `sni` sends none.
  const servername = tls.sni ?? (isIP(host) === 0 ? host : undefined)
  return {
    rejectUnauthorized: tls.rejectUnauthorized,
    ...(servername === undefined ? {} : { servername }),
    ...(tls.ca === undefined ? {} : { ca: tls.ca }),
  }
}

function loadPem(value: string): string {
  return value.includes('-----BEGIN') ? value : readFileSync(value, 'utf8')
}

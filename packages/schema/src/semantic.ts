import { parseAccessLogFormat } from './access-log-format.ts'
import { parseBackendAddr, parseListenAddr } from './addr.ts'
import { parseAlgorithm } from './algorithm.ts'
import { parseCidrList } from './cidr.ts'
import type { Config } from './config.ts'
import { createSuggester } from './did-you-mean.ts'
import type { ConfigError } from './errors.ts'
import { checkHeaderList, checkHeaderNames } from './header-field.ts'
import { parseHealthCheck } from './health-check.ts'
import { parseHostPattern, parseNameValue, parsePathPattern, parseRewrite } from './matchers.ts'
import type { LocationConfig } from './sections/location.ts'
import type { ServerConfig } from './sections/server.ts'
import { isTlsServer } from './tls.ts'

/** One semantic check: reports each problem through `push`. */
export type Check = (push: (path: string, message: string) => void) => void

/** Checks what a JSON Schema cannot: formats of strings, regexes, and references between sections. */
export function checkSemantics(config: Config): ConfigError[] {
  const errors: ConfigError[] = []
  const push = (path: string, message: string) => errors.push({ path, message })
  for (const check of semanticChecks(config)) check(push)
  return errors
}

/** The semantic checks one by one (section by section), for callers that run them as steps. */
export function semanticChecks(config: Config): Check[] {
  const locations = Object.entries(config.locations)
  const suggest = createSuggesters(config)
  const locationChecks: Check[] = []
  for (let at = 0; at < locations.length; at += LOCATIONS_PER_CHECK) {
    locationChecks.push(checkLocations(config, locations.slice(at, at + LOCATIONS_PER_CHECK), suggest))
  }
  return [checkBasic(config), checkUpstreams(config), ...locationChecks, checkServers(config, suggest), checkCertificates(config)]
}

/** "Did you mean" hints for unknown references, one per kind, shared by every check of one run (one budget each). */
interface Suggesters {
  upstream: (word: string) => string
  location: (word: string) => string
  plugin: (word: string) => string
  certificate: (word: string) => string
}

function createSuggesters(config: Config): Suggesters {
  return {
    upstream: createSuggester(() => Object.keys(config.upstreams)),
    location: createSuggester(() => Object.keys(config.locations)),
    plugin: createSuggester(() => Object.keys(config.plugins)),
    certificate: createSuggester(() => Object.keys(config.certificates)),
  }
}

const checkCertificates =
  (config: Config): Check =>
  (push) => {
    for (const [name, cert] of Object.entries(config.certificates)) {
      const at = `certificates.${name}`
      if (cert.acme === undefined) {
        if ((cert.tls_cert === undefined) !== (cert.tls_key === undefined)) {
          push(`${at}.${cert.tls_cert === undefined ? 'tls_cert' : 'tls_key'}`, 'tls_cert and tls_key go together')
        }
        continue
      }
      if (cert.domains.length === 0) push(`${at}.domains`, 'an acme certificate needs at least one domain')
      cert.domains.forEach((domain, i) => {
        // Fleetgate answers HTTP-01 challenges only, and a CA validates wildcard names with DNS-01 alone.
        if (domain.startsWith('*')) push(`${at}.domains.${i}`, `"${domain}": wildcard names cannot be ordered with HTTP-01 (acme)`)
      })
    }
  }

/** Locations checked per step: thousands of locations are checked in slices a proxy can interleave with requests. */
const LOCATIONS_PER_CHECK = 250

function attempt(push: (path: string, message: string) => void, path: string, fn: () => unknown): void {
  try {
    fn()
  } catch (err) {
    push(path, (err as Error).message)
  }
}

const checkBasic =
  (config: Config): Check =>
  (push) => {
    config.basic.trusted_proxies.forEach((cidr, i) => {
      attempt(push, `basic.trusted_proxies.${i}`, () => parseCidrList([cidr]))
    })
  }

const checkUpstreams =
  (config: Config): Check =>
  (push) => {
    for (const [name, up] of Object.entries(config.upstreams)) {
      const at = `upstreams.${name}`
      const seen = new Set<string>()
      up.addrs.forEach((addr, i) => {
        attempt(push, `${at}.addrs.${i}`, () => {
          const parsed = parseBackendAddr(addr)
          if (seen.has(parsed.id)) throw new Error(`duplicate backend "${parsed.id}"`)
          seen.add(parsed.id)
        })
      })
      attempt(push, `${at}.algorithm`, () => parseAlgorithm(up.algorithm))
      if (up.health_check !== undefined) attempt(push, `${at}.health_check`, () => parseHealthCheck(up.health_check as string))
      if ((up.tls_cert === undefined) !== (up.tls_key === undefined)) {
        push(`${at}.${up.tls_cert === undefined ? 'tls_cert' : 'tls_key'}`, 'tls_cert and tls_key go together')
      }
    }
  }

const checkLocations =
  (config: Config, entries: Array<[string, LocationConfig]>, suggest: Suggesters): Check =>
  (push) => {
    for (const [name, loc] of entries) {
      const at = `locations.${name}`
      if (loc.upstream !== undefined && !Object.hasOwn(config.upstreams, loc.upstream)) {
        push(`${at}.upstream`, `unknown upstream "${loc.upstream}"${suggest.upstream(loc.upstream)}`)
      }
      const hosts = loc.host === undefined ? [] : [loc.host].flat()
      hosts.forEach((h, i) => {
        attempt(push, Array.isArray(loc.host) ? `${at}.host.${i}` : `${at}.host`, () => parseHostPattern(h))
      })
      attempt(push, `${at}.path`, () => parsePathPattern(loc.path))
      if (loc.rewrite !== undefined) attempt(push, `${at}.rewrite`, () => parseRewrite(loc.rewrite as string))
      loc.methods.forEach((m, i) => {
        if (!/^[A-Z]+$/.test(m)) push(`${at}.methods.${i}`, `invalid method "${m}" (use upper case, for example "GET")`)
      })
      for (const key of ['match_headers', 'match_query'] as const) {
        loc[key].forEach((spec, i) => {
          attempt(push, `${at}.${key}.${i}`, () => parseNameValue(spec, key !== 'match_query'))
        })
      }
      const under = (key: string, message: string) => push(`${at}.${key}`, message)
      for (const key of ['headers_add', 'headers_set', 'response_headers_add', 'response_headers_set'] as const) {
        checkHeaderList(loc[key], key, under)
      }
      checkHeaderNames(loc.headers_remove, 'headers_remove', under)
      checkHeaderNames(loc.response_headers_remove, 'response_headers_remove', under)
      checkPluginRefs(config, loc.plugins, `${at}.plugins`, push, suggest.plugin)
    }
  }

const checkServers =
  (config: Config, suggest: Suggesters): Check =>
  (push) => {
    const addrs = new Map<string, string>()
    for (const [name, server] of Object.entries(config.servers)) {
      const at = `servers.${name}`
      attempt(push, `${at}.addr`, () => {
        const { host, port } = parseListenAddr(server.addr)
        const key = `${host}:${port}`
        const other = addrs.get(key)
        if (other !== undefined && port !== 0) throw new Error(`address ${key} is also used by servers.${other}`)
        addrs.set(key, name)
      })
      server.locations.forEach((loc, i) => {
        if (!Object.hasOwn(config.locations, loc)) push(`${at}.locations.${i}`, `unknown location "${loc}"${suggest.location(loc)}`)
      })
      checkPluginRefs(config, server.plugins, `${at}.plugins`, push, suggest.plugin)
      if (server.access_log !== undefined) attempt(push, `${at}.access_log`, () => parseAccessLogFormat(server.access_log as string))
      if ((server.tls_cert === undefined) !== (server.tls_key === undefined)) {
        push(`${at}.${server.tls_cert === undefined ? 'tls_cert' : 'tls_key'}`, 'tls_cert and tls_key go together')
      }
      if (server.tls_client_auth !== 'off' && server.tls_client_ca === undefined) {
        push(`${at}.tls_client_ca`, `required when tls_client_auth is "${server.tls_client_auth}"`)
      }
      // On a plain listener these would be silently ignored: mTLS believed on while it is off.
      if (!isTlsServer(server)) {
        for (const key of tlsOnlyKeysSet(server)) {
          push(`${at}.${key}`, 'applies to a TLS server only: set tls_cert and tls_key, certificates or global_certificates')
        }
      }
      server.certificates.forEach((cert, i) => {
        if (!Object.hasOwn(config.certificates, cert)) {
          push(`${at}.certificates.${i}`, `unknown certificate "${cert}"${suggest.certificate(cert)}`)
        }
      })
    }
    if (config.metrics.addr !== undefined) attempt(push, 'metrics.addr', () => parseListenAddr(config.metrics.addr as string))
  }

/** TLS settings a server sets away from their defaults (tls_min_version only when raised). */
function tlsOnlyKeysSet(server: ServerConfig): string[] {
  const keys: string[] = []
  if (server.tls_client_auth !== 'off') keys.push('tls_client_auth')
  if (server.tls_client_ca !== undefined) keys.push('tls_client_ca')
  if (server.tls_min_version !== '1.2') keys.push('tls_min_version')
  if (server.tls_max_version !== undefined) keys.push('tls_max_version')
  if (server.tls_ciphers !== undefined) keys.push('tls_ciphers')
  if (server.enable_http2) keys.push('enable_http2')
  if (server.ocsp_stapling !== undefined) keys.push('ocsp_stapling')
  return keys
}

function checkPluginRefs(
  config: Config,
  refs: readonly string[],
  at: string,
  push: (p: string, m: string) => void,
  suggest: (word: string) => string,
) {
  refs.forEach((ref, i) => {
    if (!Object.hasOwn(config.plugins, ref)) push(`${at}.${i}`, `unknown plugin "${ref}"${suggest(ref)}`)
  })
}

import { readFile } from 'node:fs/promises'
import { Agent } from 'node:https'
import { rootCertificates } from 'node:tls'
import type { Logger } from 'pino'

/** The acme-client module. */
export type AcmeClientModule = typeof import('acme-client')

let loading: Promise<AcmeClientModule> | undefined
let trustedCaFile: string | undefined

/**
 * Loads acme-client on first use (about 200 ms of imports a proxy without ACME certificates never
 * pays) and sets up its HTTP client once per process: requests to the ACME directory trust the
 * system roots plus `caFile` when given (a private CA, or a test CA such as pebble's), and its debug
 * messages go to `logger` at debug level. One process uses one CA file; a second, different one throws.
 */
export function loadAcmeClient(logger: Logger, caFile?: string): Promise<AcmeClientModule> {
  if (loading !== undefined) {
    if (caFile !== trustedCaFile) return Promise.reject(new Error('acme-client is already set up with another CA file'))
    return loading
  }
  trustedCaFile = caFile
  loading = setUp(logger, caFile)
  loading.catch(() => {
    loading = undefined
  })
  return loading
}

async function setUp(logger: Logger, caFile: string | undefined): Promise<AcmeClientModule> {
  const ca = caFile === undefined ? undefined : await readCaFile(caFile)
  const acme = await import('acme-client')
  if (ca !== undefined) acme.axios.defaults.httpsAgent = new Agent({ ca: [...rootCertificates, ca], keepAlive: false })
  acme.setLogger((message) => logger.debug({ acme: message }, 'acme-client'))
  return acme
}

async function readCaFile(path: string): Promise<string> {
  try {
    const text = await readFile(path, 'utf8')
    if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM certificate in it')
    return text
  } catch (err) {
    throw new Error(`ACME CA file ${path}: ${(err as Error).message}`, { cause: err })
  }
}

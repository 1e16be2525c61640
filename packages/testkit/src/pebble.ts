import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort } from './ports.ts'
import { startProcess, type TestProcess } from './process.ts'
import { waitFor } from './wait.ts'

const run = promisify(execFile)

/** A running pebble (Debian's `pebble`, the ACME test CA) with pebble-challtestsrv as its DNS. */
export interface TestPebble {
  /** RFC 8555 directory URL (HTTPS on 127.0.0.1). */
  readonly directoryUrl: string
  /** PEM file of the CA that signed pebble's own HTTPS certificate: what an ACME client must trust. */
  readonly caFile: string
  readonly process: TestProcess
  /** Certificates pebble issued so far (counted from its log). */
  issuedCount(): number
  /** Orders placed so far (new-order requests in its log). */
  orderCount(): number
  /** PEM of pebble's current issuing root (certificates it issues chain to it). */
  rootPem(): Promise<string>
  stop(): Promise<void>
}

/** Options of {@link startPebble}. */
export interface PebbleOptions {
  /** Port pebble fetches HTTP-01 challenges from (a gateway's plain listener on 127.0.0.1). */
  httpPort: number
  /**
   * pebble's own HTTPS certificate (valid for 127.0.0.1) and the CA to trust for it; default: a
   * self-signed one made here. Pass one when clients must be told the CA before pebble can start.
   */
  https?: { certFile: string; keyFile: string; caFile: string }
}

/**
 * Starts pebble on free loopback ports. It validates HTTP-01 challenges by fetching
 * `http://<domain>:<httpPort>/.well-known/acme-challenge/...`, and pebble-challtestsrv answers its
 * DNS queries with 127.0.0.1 for every name, so a gateway listening on 127.0.0.1:httpPort answers.
 * Challenges are really checked (PEBBLE_VA_ALWAYS_VALID=0), without random sleeps, nonce rejections
 * or authorization reuse.
 */
export async function startPebble(options: PebbleOptions): Promise<TestPebble> {
  const dir = await mkdtemp(join(tmpdir(), 'fleetgate-pebble-'))
  const caFile = options.https?.caFile ?? join(dir, 'cert.pem')
  const certFile = options.https?.certFile ?? caFile
  const keyFile = options.https?.keyFile ?? join(dir, 'key.pem')
  if (options.https === undefined) {
    const args = 'req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=pebble-test'.split(' ')
    await run('openssl', [...args, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', keyFile, '-out', caFile])
  }
  const [listenPort, managementPort, dnsPort, tlsPort, challManagementPort] = await Promise.all([1, 2, 3, 4, 5].map(() => freePort()))
  const config = {
    pebble: {
      listenAddress: `127.0.0.1:${listenPort}`,
      managementListenAddress: `127.0.0.1:${managementPort}`,
      certificate: certFile,
      privateKey: keyFile,
      httpPort: options.httpPort,
      tlsPort,
      ocspResponderURL: '',
      externalAccountBindingRequired: false,
    },
  }
  await writeFile(join(dir, 'pebble.json'), JSON.stringify(config))
  const dnsArgs = ['-dns01', `127.0.0.1:${dnsPort}`, '-management', `127.0.0.1:${challManagementPort}`, '-defaultIPv6', '']
  // Only its DNS server is used: every name resolves to 127.0.0.1; its own challenge servers are off.
  const dns = startProcess('pebble-challtestsrv', [...dnsArgs, '-http01', '', '-https01', '', '-tlsalpn01', ''])
  const pebble = startProcess('pebble', ['-config', join(dir, 'pebble.json'), '-dnsserver', `127.0.0.1:${dnsPort}`], {
    env: { PEBBLE_VA_NOSLEEP: '1', PEBBLE_VA_ALWAYS_VALID: '0', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' },
  })
  const ca = await readFile(caFile, 'utf8')
  const get = (url: string) => httpsGet(url, ca)
  const directoryUrl = `https://127.0.0.1:${listenPort}/dir`
  const stop = async () => {
    await pebble.stop()
    await dns.stop()
    await rm(dir, { recursive: true, force: true })
  }
  try {
    await waitFor('pebble directory', async () => (await get(directoryUrl)).includes('newOrder'), 15_000)
    await waitFor('pebble-challtestsrv', () => dns.output().includes('Starting challenge servers'), 5000)
  } catch (err) {
    const output = `${pebble.output()}\n${dns.output()}`
    await stop()
    throw new Error(`${(err as Error).message}\n${output}`)
  }
  const count = (needle: string) =>
    pebble
      .output()
      .split('\n')
      .filter((line) => line.includes(needle)).length
  return {
    directoryUrl,
    caFile,
    process: pebble,
    issuedCount: () => count('Issued certificate serial'),
    orderCount: () => count('POST /order-plz'),
    rootPem: () => get(`https://127.0.0.1:${managementPort}/roots/0`),
    stop,
  }
}

function httpsGet(url: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, timeout: 5000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        body += chunk
      })
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: HTTP ${res.statusCode}`))))
    })
    req.on('error', reject)
    req.on('timeout', () => req.destroy(new Error(`${url}: timed out`)))
    req.end()
  })
}

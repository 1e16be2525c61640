import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A certificate and its key made by a test CA, as PEM text and as files. */
export interface TestCert {
  readonly certPem: string
  readonly keyPem: string
  readonly certPath: string
  readonly keyPath: string
  /** Serial number, upper-case hex (as in an openssl index.txt). */
  readonly serial: string
  readonly subject: string
}

/** What a leaf certificate is issued for. */
export interface IssueOptions {
  /** DNS names (the subjectAltName); the first is also the CN. */
  dns: string[]
  /** IP addresses added to the subjectAltName. */
  ips?: string[]
  /** Validity in days (default 30). */
  days?: number
  /** Authority Information Access OCSP responder URL. */
  ocspUrl?: string
  /** "server" (default) or "client" extended key usage. */
  usage?: 'server' | 'client'
}

/** A throwaway certificate authority in a temp directory (openssl on the PATH). */
export interface TestCa {
  readonly dir: string
  readonly certPem: string
  readonly certPath: string
  readonly keyPath: string
  /** Issues a leaf certificate signed by this CA. */
  issue(options: IssueOptions): TestCert
  /** Issues an intermediate CA signed by this one. */
  intermediate(name: string): TestCa
  /** Marks a certificate revoked in this CA's OCSP index. */
  revoke(cert: TestCert): void
  /** openssl `index.txt` of every certificate issued (for `openssl ocsp -index`). */
  readonly indexPath: string
  /** Deletes the directory (only for the root CA; intermediates live inside it). */
  cleanup(): void
}

let serialCounter = 0x1000

function openssl(args: string[], cwd: string): string {
  return execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] }).toString()
}

function nextSerial(): string {
  serialCounter += 1
  // Time-based prefix keeps serials unique across test processes sharing a CA file (never the case today).
  const hex = `${Date.now().toString(16)}${serialCounter.toString(16)}`.toUpperCase()
  // openssl writes serials as whole bytes, so the index must too.
  return hex.length % 2 === 0 ? hex : `0${hex}`
}

function indexDate(date: Date): string {
  const iso = date.toISOString()
  return `${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`
}

function makeCa(dir: string, name: string, parent: { certPath: string; keyPath: string } | undefined): TestCa {
  const certPath = join(dir, `${name}.pem`)
  const keyPath = join(dir, `${name}.key`)
  const indexPath = join(dir, `${name}-index.txt`)
  writeFileSync(indexPath, '')
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyPath], dir)
  if (parent === undefined) {
    openssl(['req', '-x509', '-new', '-key', keyPath, '-subj', `/CN=${name}`, '-days', '30', '-out', certPath], dir)
  } else {
    const ext = join(dir, `${name}.ext`)
    writeFileSync(ext, '[v3]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n')
    const csr = join(dir, `${name}.csr`)
    openssl(['req', '-new', '-key', keyPath, '-subj', `/CN=${name}`, '-out', csr], dir)
    const pem = openssl(
      [
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        parent.certPath,
        '-CAkey',
        parent.keyPath,
        '-set_serial',
        `0x${nextSerial()}`,
        '-days',
        '30',
        '-extfile',
        ext,
        '-extensions',
        'v3',
      ],
      dir,
    )
    writeFileSync(certPath, pem)
  }
  const issued = new Map<string, { line: string }>()
  const writeIndex = () => writeFileSync(indexPath, [...issued.values()].map((e) => `${e.line}\n`).join(''))
  let leafCount = 0
  const ca: TestCa = {
    dir,
    certPath,
    keyPath,
    indexPath,
    certPem: readFileSync(certPath, 'utf8'),
    issue(options) {
      leafCount += 1
      const base = join(dir, `${name}-leaf${leafCount}`)
      const sans = [...options.dns.map((d) => `DNS:${d}`), ...(options.ips ?? []).map((ip) => `IP:${ip}`)]
      const lines = [
        '[v3]',
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        `extendedKeyUsage=${options.usage === 'client' ? 'clientAuth' : 'serverAuth'}`,
      ]
      if (sans.length > 0) lines.push(`subjectAltName=${sans.join(',')}`)
      if (options.ocspUrl !== undefined) lines.push(`authorityInfoAccess=OCSP;URI:${options.ocspUrl}`)
      writeFileSync(`${base}.ext`, `${lines.join('\n')}\n`)
      const keyFile = `${base}.key`
      const certFile = `${base}.pem`
      const cn = options.dns[0] ?? `client${leafCount}`
      openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile], dir)
      openssl(['req', '-new', '-key', keyFile, '-subj', `/CN=${cn}`, '-out', `${base}.csr`], dir)
      const serial = nextSerial()
      const days = options.days ?? 30
      openssl(
        [
          'x509',
          '-req',
          '-in',
          `${base}.csr`,
          '-CA',
          certPath,
          '-CAkey',
          keyPath,
          '-set_serial',
          `0x${serial}`,
          '-days',
          String(days),
          '-extfile',
          `${base}.ext`,
          '-extensions',
          'v3',
          '-out',
          certFile,
        ],
        dir,
      )
      const expires = indexDate(new Date(Date.now() + days * 86_400_000))
      const subject = `/CN=${cn}`
      issued.set(serial, { line: `V\t${expires}\t\t${serial}\tunknown\t${subject}` })
      writeIndex()
      return {
        certPem: readFileSync(certFile, 'utf8'),
        keyPem: readFileSync(keyFile, 'utf8'),
        certPath: certFile,
        keyPath: keyFile,
        serial,
        subject,
      }
    },
    intermediate(childName) {
      return makeCa(dir, childName, { certPath, keyPath })
    },
    revoke(cert) {
      const entry = issued.get(cert.serial)
      if (entry === undefined) throw new Error(`serial ${cert.serial} was not issued by ${name}`)
      const [, expires, , serial, file, subject] = entry.line.split('\t')
      entry.line = `R\t${expires}\t${indexDate(new Date(Date.now() - 60_000))}\t${serial}\t${file}\t${subject}`
      writeIndex()
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true })
    },
  }
  return ca
}

/** Creates a throwaway root CA (EC P-256, 30 days) in a fresh temp directory. */
export function createTestCa(name = 'fleetgate-test-ca'): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-certs-'))
  return makeCa(dir, name, undefined)
}

import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto'
import { configError, type PemSource, pemBlocks, readPem } from './pem-source.ts'

/** Where one certificate's PEM comes from: the leaf (optionally followed by its chain), the key, an extra chain. */
export interface CertificateSources {
  readonly cert: PemSource
  readonly key: PemSource
  readonly chain: PemSource | undefined
}

/** A parsed, checked certificate: the leaf, its chain, its key, and what OCSP and expiry need. */
export interface CertificateMaterial {
  /** Leaf then chain, as sent in the handshake. */
  readonly certPem: string
  readonly keyPem: string
  readonly leaf: X509Certificate
  readonly chain: readonly X509Certificate[]
  /** The certificate in the chain that issued the leaf; undefined when the chain does not hold it. */
  readonly issuer: X509Certificate | undefined
  readonly notAfter: Date
  /** First OCSP responder URL of the leaf's Authority Information Access. */
  readonly ocspUrl: string | undefined
  /** The PEM texts it was made from (leaf file, key file, chain file), to tell a real change from a touch. */
  readonly texts: readonly string[]
}

/**
 * Reads and checks a certificate: the PEM parses, the key is a private key matching the leaf.
 * Throws a ConfigValidationError naming the config key at fault.
 */
export function loadCertificateMaterial(sources: CertificateSources): CertificateMaterial {
  const certText = readPem(sources.cert)
  const keyText = readPem(sources.key)
  const chainText = sources.chain === undefined ? '' : readPem(sources.chain)
  const certBlocks = pemBlocks(certText, 'CERTIFICATE')
  if (certBlocks.length === 0) throw configError(sources.cert.key, 'no PEM certificate found')
  const parse = (pem: string, key: string): X509Certificate => {
    try {
      return new X509Certificate(pem)
    } catch (err) {
      throw configError(key, `certificate does not parse: ${(err as Error).message}`, err)
    }
  }
  const leaf = parse(certBlocks[0] as string, sources.cert.key)
  const chainBlocks = [...certBlocks.slice(1)]
  const chain = chainBlocks.map((pem) => parse(pem, sources.cert.key))
  if (sources.chain !== undefined) {
    const extra = pemBlocks(chainText, 'CERTIFICATE')
    if (extra.length === 0) throw configError(sources.chain.key, 'no PEM certificate found')
    for (const pem of extra) {
      chain.push(parse(pem, sources.chain.key))
      chainBlocks.push(pem)
    }
  }
  let key: KeyObject
  try {
    key = createPrivateKey(keyText)
  } catch (err) {
    throw configError(sources.key.key, `private key does not parse: ${(err as Error).message}`, err)
  }
  if (!leaf.checkPrivateKey(key)) throw configError(sources.key.key, `key does not match the certificate in ${sources.cert.key}`)
  return {
    certPem: [certBlocks[0] as string, ...chainBlocks].join(''),
    keyPem: keyText,
    leaf,
    chain,
    issuer: chain.find((c) => leaf.checkIssued(c) && leaf.verify(c.publicKey)),
    notAfter: new Date(leaf.validTo),
    ocspUrl: ocspResponderUrl(leaf),
    texts: [certText, keyText, chainText],
  }
}

/** The first "OCSP - URI:" entry of a certificate's Authority Information Access. */
export function ocspResponderUrl(cert: X509Certificate): string | undefined {
  for (const line of (cert.infoAccess ?? '').split('\n')) {
    const match = /^OCSP - URI:(.+)$/.exec(line.trim())
    if (match !== null) return (match[1] as string).replace(/^"|"$/g, '')
  }
  return undefined
}

/** DNS names of a certificate's subjectAltName, lower-cased ("*.example.com" kept as written). */
export function sanDnsNames(cert: X509Certificate): string[] {
  const names: string[] = []
  for (const part of (cert.subjectAltName ?? '').split(', ')) {
    if (part.startsWith('DNS:')) names.push(part.slice(4).toLowerCase())
  }
  return names
}

/** Configured domains the certificate's SAN does not cover (exact, or by a one-label wildcard). */
export function domainsNotInSan(cert: X509Certificate, domains: readonly string[]): string[] {
  const sans = new Set(sanDnsNames(cert))
  return domains.filter((domain) => {
    const name = domain.toLowerCase()
    if (sans.has(name)) return false
    if (name.startsWith('*.')) return true
    const dot = name.indexOf('.')
    return !(dot > 0 && sans.has(`*${name.slice(dot)}`))
  })
}

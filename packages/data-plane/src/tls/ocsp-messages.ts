import { createHash, verify as verifySignature, X509Certificate } from 'node:crypto'
import { BasicOCSPResponse, CertID, id_pkix_ocsp_basic, OCSPRequest, OCSPResponse, Request, TBSRequest } from '@peculiar/asn1-ocsp'
import { AsnConvert, OctetString } from '@peculiar/asn1-schema'
import { AlgorithmIdentifier, Certificate } from '@peculiar/asn1-x509'
import type { OcspStatus } from './tls-metrics.ts'

const SHA1 = '1.3.14.3.2.26'
const OCSP_SIGNING = '1.3.6.1.5.5.7.3.9'

/** Signature algorithms an OCSP responder may use, by OID: the digest to verify with (null: none, as for Ed25519). */
const SIGNATURE_DIGESTS: Readonly<Record<string, string | null>> = {
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.1': 'sha1',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null,
}

/** A checked OCSP answer about one certificate. */
export interface OcspAnswer {
  readonly status: Exclude<OcspStatus, 'unavailable'>
  readonly thisUpdate: Date
  /** undefined when the responder gives none (then the answer is refreshed on a fixed period). */
  readonly nextUpdate: Date | undefined
  readonly revokedAt: Date | undefined
  /** The DER response as received: what gets stapled. */
  readonly der: Buffer
}

const sha1 = (data: ArrayBuffer | Uint8Array): ArrayBuffer => {
  const digest = createHash('sha1').update(new Uint8Array(data)).digest()
  return digest.buffer.slice(digest.byteOffset, digest.byteOffset + digest.byteLength) as ArrayBuffer
}

/** The CertID (SHA-1, as responders expect) naming `leaf` as issued by `issuer`. */
export function ocspCertId(leaf: X509Certificate, issuer: X509Certificate): CertID {
  const leafAsn = AsnConvert.parse(leaf.raw, Certificate)
  const issuerAsn = AsnConvert.parse(issuer.raw, Certificate)
  return new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: SHA1, parameters: null }),
    issuerNameHash: new OctetString(sha1(AsnConvert.serialize(leafAsn.tbsCertificate.issuer))),
    issuerKeyHash: new OctetString(sha1(issuerAsn.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey)),
    serialNumber: leafAsn.tbsCertificate.serialNumber,
  })
}

/** A DER OCSPRequest (RFC 6960, unsigned, no nonce so responses can be cached) for `leaf`. */
export function buildOcspRequest(leaf: X509Certificate, issuer: X509Certificate): Buffer {
  const request = new OCSPRequest({
    tbsRequest: new TBSRequest({ requestList: [new Request({ reqCert: ocspCertId(leaf, issuer) })] }),
  })
  return Buffer.from(AsnConvert.serialize(request))
}

const equalBytes = (a: ArrayBuffer, b: ArrayBuffer) => Buffer.from(a).equals(Buffer.from(b))

/**
 * Parses and checks a DER OCSP response about `leaf`: successful, signed by the issuer or by a
 * responder certificate the issuer delegated OCSP signing to, and naming this certificate.
 * Throws with the reason otherwise.
 */
export function parseOcspResponse(der: Buffer, leaf: X509Certificate, issuer: X509Certificate): OcspAnswer {
  const response = AsnConvert.parse(der, OCSPResponse)
  if (response.responseStatus !== 0) throw new Error(`responder answered status ${response.responseStatus} (not successful)`)
  if (response.responseBytes === undefined || response.responseBytes.responseType !== id_pkix_ocsp_basic) {
    throw new Error('response is not a basic OCSP response')
  }
  const basic = AsnConvert.parse(response.responseBytes.response.buffer, BasicOCSPResponse)
  verifyResponder(basic, issuer)
  const id = ocspCertId(leaf, issuer)
  const single = basic.tbsResponseData.responses.find(
    (r) =>
      equalBytes(r.certID.serialNumber, id.serialNumber) &&
      (r.certID.hashAlgorithm.algorithm !== SHA1 ||
        (equalBytes(r.certID.issuerKeyHash.buffer, id.issuerKeyHash.buffer) &&
          equalBytes(r.certID.issuerNameHash.buffer, id.issuerNameHash.buffer))),
  )
  if (single === undefined) throw new Error('response does not name this certificate')
  const status = single.certStatus.revoked !== undefined ? 'revoked' : single.certStatus.good !== undefined ? 'good' : 'unknown'
  return {
    status,
    thisUpdate: single.thisUpdate,
    nextUpdate: single.nextUpdate,
    revokedAt: single.certStatus.revoked?.revocationTime,
    der,
  }
}

function verifyResponder(basic: BasicOCSPResponse, issuer: X509Certificate): void {
  const tbs = (basic as BasicOCSPResponse & { tbsResponseDataRaw?: ArrayBuffer }).tbsResponseDataRaw
  if (tbs === undefined) throw new Error('response data missing')
  const algorithm = basic.signatureAlgorithm.algorithm
  const digest = SIGNATURE_DIGESTS[algorithm]
  if (digest === undefined) throw new Error(`unsupported signature algorithm ${algorithm}`)
  let signerKey = issuer.publicKey
  const delegated = basic.certs?.[0]
  if (delegated !== undefined) {
    const signer = new X509Certificate(Buffer.from(AsnConvert.serialize(delegated)))
    // The issuer itself may be included; otherwise it must be a delegated OCSP signer it issued.
    if (!signer.raw.equals(issuer.raw)) {
      if (!signer.checkIssued(issuer) || !signer.verify(issuer.publicKey))
        throw new Error('responder certificate is not issued by the issuer')
      if (!(signer.keyUsage ?? []).includes(OCSP_SIGNING)) throw new Error('responder certificate is not allowed to sign OCSP responses')
      signerKey = signer.publicKey
    }
  }
  if (!verifySignature(digest, new Uint8Array(tbs), signerKey, new Uint8Array(basic.signature)))
    throw new Error('response signature does not verify')
}

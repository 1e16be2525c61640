import { generateKeyPairSync } from 'node:crypto'

/** A new ACME account key: ECDSA P-256 (ES256), PKCS#8 PEM. */
export function createAccountKey(): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
}

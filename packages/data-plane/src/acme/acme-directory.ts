import { createHash } from 'node:crypto'

/** Let's Encrypt's production directory, what `acme = "lets_encrypt"` means. */
export const LETS_ENCRYPT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory'

/** The directory URL of a certificate's `acme` value ("lets_encrypt" or a URL, as the schema checked). */
export function acmeDirectoryUrl(acme: string): string {
  return acme === 'lets_encrypt' ? LETS_ENCRYPT_DIRECTORY : acme
}

/** A short stable id of a directory URL, used in key and file names (one ACME account per directory). */
export function directoryId(directoryUrl: string): string {
  return createHash('sha256').update(directoryUrl).digest('hex').slice(0, 16)
}

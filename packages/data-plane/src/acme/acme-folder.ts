import { createPrivateKey, X509Certificate } from 'node:crypto'
import { type FSWatcher, watch } from 'node:fs'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Config } from '@fleetgate/schema'
import type { Logger } from 'pino'
import { createAccountKey } from './account-key.ts'
import { directoryId } from './acme-directory.ts'
import type { IssuedCertificate } from './acme-order.ts'

/** Default state folder of file mode, relative to the working directory. */
export const DEFAULT_ACME_DIR = '.fleetgate/acme'

/**
 * File mode's ACME state: `certificates/<name>.crt` and `.key` (issued chain and key) and
 * `accounts/<directory id>.key`; every file mode 0600, folders 0700, written by atomic rename.
 */
export interface AcmeFolder {
  readonly dir: string
  /** The issued certificate of `name`; undefined when absent or when the two files do not pair up. */
  readIssued(name: string): Promise<IssuedCertificate | undefined>
  writeIssued(name: string, issued: IssuedCertificate): Promise<void>
  /** The account key for a directory, created on first use. */
  accountKey(directoryUrl: string): Promise<string>
}

/** Opens (lazily creates) the folder at `dir`. */
export function openAcmeFolder(dir: string = DEFAULT_ACME_DIR): AcmeFolder {
  const certPath = (name: string) => join(dir, 'certificates', `${name}.crt`)
  const keyPath = (name: string) => join(dir, 'certificates', `${name}.key`)
  return {
    dir,
    async readIssued(name) {
      const [cert, key] = await Promise.all([readOptional(certPath(name)), readOptional(keyPath(name))])
      if (cert === undefined || key === undefined) return undefined
      try {
        return new X509Certificate(cert).checkPrivateKey(createPrivateKey(key)) ? { cert, key } : undefined
      } catch {
        return undefined
      }
    },
    async writeIssued(name, issued) {
      // The key first: a reader that sees the new certificate then also finds its key.
      await writePrivate(keyPath(name), issued.key)
      await writePrivate(certPath(name), issued.cert)
    },
    async accountKey(directoryUrl) {
      const path = join(dir, 'accounts', `${directoryId(directoryUrl)}.key`)
      const existing = await readOptional(path)
      if (existing !== undefined) return existing
      const created = createAccountKey()
      await writePrivate(path, created)
      return created
    },
  }
}

/**
 * The config with every ACME certificate that has an issued certificate in the folder served from it
 * (tls_cert and tls_key inline, so a new certificate changes the config's hash and gets applied).
 */
export async function overlayIssued(config: Config, folder: AcmeFolder): Promise<Config> {
  const entries = Object.entries(config.certificates ?? {}).filter(([, cert]) => cert.acme !== undefined)
  if (entries.length === 0) return config
  const certificates = { ...config.certificates }
  for (const [name, cert] of entries) {
    const issued = await folder.readIssued(name)
    if (issued !== undefined) certificates[name] = { ...cert, tls_cert: issued.cert, tls_key: issued.key }
  }
  return { ...config, certificates }
}

/**
 * Calls `onChange` (debounced) when issued certificates in the folder change: worker processes that
 * do not order learn of a new certificate this way.
 */
export function watchIssued(folder: AcmeFolder, onChange: () => void, logger: Logger): { close(): void } {
  const dir = join(folder.dir, 'certificates')
  let watcher: FSWatcher | undefined
  let timer: NodeJS.Timeout | undefined
  let closed = false
  void mkdir(dir, { recursive: true, mode: 0o700 })
    .then(() => {
      if (closed) return
      watcher = watch(dir, (_event, name) => {
        if (name !== null && !name.endsWith('.crt')) return
        clearTimeout(timer)
        timer = setTimeout(onChange, 200)
      })
      watcher.on('error', () => {})
    })
    .catch((err: Error) => logger.warn({ reason: err.message }, 'ACME: cannot watch the certificate folder'))
  return {
    close() {
      closed = true
      watcher?.close()
      clearTimeout(timer)
    },
  }
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

async function writePrivate(path: string, text: string): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true, mode: 0o700 })
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, text, { mode: 0o600 })
  await rename(tmp, path)
}

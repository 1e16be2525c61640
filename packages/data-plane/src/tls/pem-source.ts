import { readFileSync } from 'node:fs'
import { ConfigValidationError } from '@fleetgate/schema/runtime'

/** A config value that holds PEM text or names a file holding it. */
export interface PemSource {
  /** The config key path it came from ("certificates.example.tls_cert"), for errors. */
  readonly key: string
  /** The file it names; undefined for inline PEM. */
  readonly path: string | undefined
  /** The inline PEM; undefined when it names a file. */
  readonly inline: string | undefined
}

/** Classifies a config value as inline PEM or a file path. */
export function pemSource(key: string, value: string): PemSource {
  return value.includes('-----BEGIN') ? { key, path: undefined, inline: value } : { key, path: value, inline: undefined }
}

/** The PEM text of a source, read now; throws a ConfigValidationError naming the key. */
export function readPem(source: PemSource): string {
  if (source.inline !== undefined) return source.inline
  try {
    return readFileSync(source.path as string, 'utf8')
  } catch (err) {
    throw configError(source.key, `cannot read ${source.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, err)
  }
}

/** A config error at one key path, keeping `cause`. */
export function configError(key: string, message: string, cause?: unknown): ConfigValidationError {
  return new ConfigValidationError([{ path: key, message }], cause === undefined ? undefined : { cause })
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g

/** The PEM blocks of a text whose label is `label` ("CERTIFICATE"), in order. */
export function pemBlocks(text: string, label: string): string[] {
  const blocks: string[] = []
  for (const match of text.matchAll(PEM_BLOCK)) if (match[1] === label) blocks.push(`${match[0]}\n`)
  return blocks
}

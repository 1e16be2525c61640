import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import type { AdminTokens } from './auth.ts'

/** Where tokens may come from, in order: files, then environment variables, then the token store. */
export interface TokenSources {
  /** File of admin tokens, one a line (several allow rotation); `#` starts a comment. */
  adminTokenFile?: string
  readonlyTokenFile?: string
  /** FLEETGATE_ADMIN_TOKEN / FLEETGATE_READONLY_TOKEN (comma-separated lists) are read from here. */
  env?: NodeJS.ProcessEnv
  /** Holds the generated admin token when no admin token is given. */
  tokenStore: string
}

/** Resolved tokens; `generated` is the admin token created by this call (to show once), else null. */
export interface ResolvedTokens {
  tokens: AdminTokens
  generated: string | null
}

/** The default token store of a cluster: `$HOME/.fleetgate/<cluster>.admin-token`. */
export function defaultTokenStore(cluster: string): string {
  return join(homedir(), '.fleetgate', `${cluster}.admin-token`)
}

/**
 * Gathers the API tokens. There is no built-in default token (APISIX's CVE-2020-13945): with no admin
 * token given, a random one is generated once and kept in `tokenStore` (mode 0600), and later starts
 * reuse it. The store is a local file, not etcd, so reading etcd never yields the key to write to it.
 */
export async function resolveAdminTokens(sources: TokenSources): Promise<ResolvedTokens> {
  const env = sources.env ?? process.env
  const admin = [...(await tokensFromFile(sources.adminTokenFile)), ...splitList(env.FLEETGATE_ADMIN_TOKEN)]
  const readonly = [...(await tokensFromFile(sources.readonlyTokenFile)), ...splitList(env.FLEETGATE_READONLY_TOKEN)]
  if (admin.length > 0) return { tokens: { admin, readonly }, generated: null }
  const stored = await tokensFromFile(sources.tokenStore, { optional: true })
  if (stored.length > 0) return { tokens: { admin: stored, readonly }, generated: null }
  const token = generateAdminToken()
  await mkdir(dirname(sources.tokenStore), { recursive: true, mode: 0o700 })
  try {
    await writeFile(sources.tokenStore, `${token}\n`, { mode: 0o600, flag: 'wx' })
  } catch (err) {
    // Another process created it first: use theirs, so both accept the same token.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    return { tokens: { admin: await tokensFromFile(sources.tokenStore), readonly }, generated: null }
  }
  return { tokens: { admin: [token], readonly }, generated: token }
}

/**
 * A new admin token: 256 random bits in base64url behind a fixed "fg_" prefix. Bare base64url
 * starts with "-" once in 64 tokens, which a command line then takes for a flag (`--token -x...`).
 */
export function generateAdminToken(bytes: Buffer = randomBytes(32)): string {
  return `fg_${bytes.toString('base64url')}`
}

async function tokensFromFile(path: string | undefined, opts: { optional?: boolean } = {}): Promise<string[]> {
  if (path === undefined) return []
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if (opts.optional && (err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw new Error(`cannot read token file ${path}: ${(err as Error).message}`, { cause: err })
  }
  const tokens = text
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => line !== '')
  if (tokens.length === 0 && !opts.optional) throw new Error(`token file ${path} holds no token`)
  return tokens
}

function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
}

import { readFile } from 'node:fs/promises'

/**
 * The status listener's debug tokens: `--debug-token-file` (one a line, `#` starts a comment; several
 * allow rotation), plus FLEETGATE_DEBUG_TOKEN (comma-separated). None: the /debug endpoints are off.
 * A file that cannot be read or holds no token is an error, never a silently open endpoint.
 */
export async function readDebugTokens(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const tokens: string[] = []
  if (file !== undefined) {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (err) {
      throw new Error(`--debug-token-file: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
    for (const line of text.split('\n')) {
      const token = line.replace(/#.*/, '').trim()
      if (token !== '') tokens.push(token)
    }
    if (tokens.length === 0) throw new Error(`--debug-token-file: ${file} holds no token`)
  }
  for (const token of (env.FLEETGATE_DEBUG_TOKEN ?? '').split(',')) if (token.trim() !== '') tokens.push(token.trim())
  if (tokens.some((t) => t.length < 16)) throw new Error('debug tokens must be at least 16 characters long')
  return tokens
}

import { readFile } from 'node:fs/promises'
import type { PublishResult } from '@fleetgate/control-plane'
import { type AdminClient, CtlFailure, EXIT } from './admin-client.ts'

/** `ctl apply -f FILE`: replaces the desired config with FILE (TOML, or JSON for *.json; "-" reads stdin). */
export async function applyConfig(client: AdminClient, opts: { file: string; message?: string; author?: string }): Promise<string> {
  const body = await readInput(opts.file)
  const headers: Record<string, string> = {}
  if (opts.author) headers['x-fleetgate-author'] = encodeHeader(opts.author)
  const result = await client.json<PublishResult>({
    method: 'PUT',
    // The message goes in the query string, which carries any UTF-8, unlike a header.
    path: opts.message ? `/config?message=${encodeURIComponent(opts.message)}` : '/config',
    body,
    contentType: opts.file.endsWith('.json') ? 'application/json' : 'application/toml',
    headers,
  })
  return describePublish(`applied ${opts.file}`, result)
}

/** `ctl get [KIND [NAME]]`: the desired config, one kind, or one resource; TOML unless `json`. */
export async function getConfig(client: AdminClient, opts: { kind?: string; name?: string; json: boolean }): Promise<string> {
  const path =
    opts.kind === undefined
      ? '/config'
      : `/${encodeURIComponent(opts.kind)}${opts.name === undefined ? '' : `/${encodeURIComponent(opts.name)}`}`
  if (opts.json) return `${JSON.stringify(await client.json({ path, onHeaders: warnUnreadable }), null, 2)}\n`
  const text = await client.text({ path, accept: 'application/toml', onHeaders: warnUnreadable })
  return text.endsWith('\n') || text === '' ? text : `${text}\n`
}

/**
 * desired/ keys the control plane could not read are left out of what `get` prints: say so on
 * stderr, so that an edit of the printed config is not taken for the whole of it.
 */
function warnUnreadable(headers: Headers): void {
  const keys = headers.get('x-fleetgate-unreadable-keys')
  if (!keys) return
  const list = keys.split(', ').map((k) => decodeURIComponent(k))
  process.stderr.write(`warning: left out, unreadable in the store (fix or delete them): ${list.join(', ')}\n`)
}

/** One line about a write's outcome, plus a note when a rollback hold kept it from being published. */
export function describePublish(what: string, result: PublishResult): string {
  const outcome = result.published
    ? `published generation ${result.generation}`
    : result.held
      ? `stored, not published: a rollback holds generation ${result.generation}`
      : `no change: generation ${result.generation} stays current`
  const hold = result.held
    ? '\nnote: a rollback holds auto-publish; desired/ changes are stored but not published until "fleetgate ctl release" or "fleetgate ctl restore GEN"'
    : ''
  return `${what}: ${outcome}${hold}\n`
}

async function readInput(file: string): Promise<string> {
  try {
    if (file === '-') {
      const chunks: Buffer[] = []
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
      return Buffer.concat(chunks).toString('utf8')
    }
    return await readFile(file, 'utf8')
  } catch (err) {
    throw new CtlFailure(EXIT.refused, [`${file}: ${(err as Error).message}`])
  }
}

/** Header values must be printable ASCII here; anything else is sent percent-encoded rather than refused. */
function encodeHeader(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value)
}

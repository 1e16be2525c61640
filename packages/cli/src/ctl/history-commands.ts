import type { ConfigDiff, VersionHistory } from '@fleetgate/control-plane'
import type { AdminClient } from './admin-client.ts'
import { formatTable, shortTime } from './table.ts'

/** `ctl history`: published versions, newest first, as a table. */
export async function showHistory(client: AdminClient, opts: { json: boolean }): Promise<string> {
  const { versions, unreadable = [] } = await client.json<Partial<VersionHistory> & Pick<VersionHistory, 'versions'>>({ path: '/versions' })
  // Manifests the store holds but nobody can read: not in the table, so named on stderr.
  for (const u of unreadable) process.stderr.write(`warning: ${u.path} is unreadable: ${u.message}\n`)
  if (opts.json) return `${JSON.stringify(versions, null, 2)}\n`
  if (versions.length === 0) return 'no published versions yet\n'
  return formatTable(
    ['GEN', 'CREATED (UTC)', 'AUTHOR', 'PARENT', 'ROLLBACK OF', 'SHA256', 'MESSAGE'],
    versions.map((v) => [v.generation, shortTime(v.createdAt), v.author, v.parent, v.rollbackOf, v.sha256.slice(0, 12), v.message]),
  )
}

/** `ctl diff A B`: one line per resource, "+" added, "-" removed, "~" changed (with the changed keys). */
export async function showDiff(client: AdminClient, opts: { from: number; to: number; json: boolean }): Promise<string> {
  const diff = await client.json<ConfigDiff>({ path: `/versions/${opts.from}/diff/${opts.to}` })
  return opts.json ? `${JSON.stringify(diff, null, 2)}\n` : formatDiff(diff)
}

/** The text of `ctl diff`: `kind.name` per resource, and `kind` alone for a singleton section (basic, metrics, tracing). */
export function formatDiff(diff: ConfigDiff): string {
  const label = (r: { kind: string; name?: string }) => (r.name === undefined ? r.kind : `${r.kind}.${r.name}`)
  const lines = [
    ...diff.added.map((r) => `+ ${label(r)}`),
    ...diff.removed.map((r) => `- ${label(r)}`),
    ...diff.changed.map((r) => `~ ${label(r)}${r.keys.length > 0 ? `: ${r.keys.join(', ')}` : ''}`),
  ]
  if (lines.length === 0) return `no differences between generation ${diff.from} and ${diff.to}\n`
  return `${lines.join('\n')}\n`
}

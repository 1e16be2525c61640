import type { ConfigDiff, VersionSummary } from '@fleetgate/control-plane'
import type { AdminClient } from './admin-client.ts'
import { formatTable, shortTime } from './table.ts'

/** `ctl history`: published versions, newest first, as a table. */
export async function showHistory(client: AdminClient, opts: { json: boolean }): Promise<string> {
  const { versions } = await client.json<{ versions: VersionSummary[] }>({ path: '/versions' })
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
  if (opts.json) return `${JSON.stringify(diff, null, 2)}\n`
  const lines = [
    ...diff.added.map((r) => `+ ${r.kind}.${r.name}`),
    ...diff.removed.map((r) => `- ${r.kind}.${r.name}`),
    ...diff.changed.map((r) => `~ ${r.kind}.${r.name}${r.keys.length > 0 ? `: ${r.keys.join(', ')}` : ''}`),
  ]
  if (lines.length === 0) return `no differences between generation ${diff.from} and ${diff.to}\n`
  return `${lines.join('\n')}\n`
}

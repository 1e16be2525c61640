import type { FleetNode, FleetSummary, PublishResult, PublishStatus } from '@fleetgate/control-plane'
import type { AdminClient } from './admin-client.ts'
import { describePublish } from './config-commands.ts'
import { formatTable, shortTime } from './table.ts'

/** `ctl rollback GEN`: publishes GEN's content as a new generation and holds auto-publish. */
export async function rollback(client: AdminClient, generation: number): Promise<string> {
  const body = JSON.stringify({ to: generation })
  const result = await client.json<PublishResult>({ method: 'POST', path: '/rollback', body, contentType: 'application/json' })
  return describePublish(`rolled back to generation ${generation}`, result)
}

/** `ctl restore GEN`: writes GEN back into desired/ and releases the hold. */
export async function restore(client: AdminClient, generation: number): Promise<string> {
  const result = await client.json<PublishResult>({ method: 'POST', path: `/versions/${generation}/restore` })
  return describePublish(`restored generation ${generation} into desired/`, result)
}

/** `ctl release`: releases a rollback hold, publishing desired/ if it differs. */
export async function release(client: AdminClient): Promise<string> {
  const result = await client.json<PublishResult>({ method: 'POST', path: '/publish/release' })
  return describePublish('released the hold', result)
}

/** `ctl status`: the last publish attempt, with its errors when it was rejected, and the store's or file's problems. */
export async function showStatus(client: AdminClient, opts: { json: boolean }): Promise<string> {
  const status = await client.json<PublishStatus>({ path: '/publish' })
  if (opts.json) return `${JSON.stringify(status, null, 2)}\n`
  const lines = [
    `state:      ${status.state}`,
    `generation: ${status.generation ?? '-'}`,
    `held:       ${status.held ? 'yes (a rollback holds auto-publish)' : 'no'}`,
    `at:         ${shortTime(status.at)}`,
  ]
  const listed = (e: { path: string; message: string }) => `  ${e.path ? `${e.path}: ` : ''}${e.message}`
  if (status.errors.length > 0) lines.push('errors:', ...status.errors.map(listed))
  // Unreadable records, a failed publish, a config file standalone refused to import.
  if (status.problems?.length) lines.push('problems:', ...status.problems.map(listed))
  return `${lines.join('\n')}\n`
}

/** `ctl fleet`: every data plane, what it applied or rejected, whether it is stale, and its key figures. */
export async function showFleet(client: AdminClient, opts: { json: boolean }): Promise<string> {
  const view = await client.json<{ nodes: FleetNode[]; summary?: FleetSummary }>({ path: '/fleet' })
  const { nodes, summary } = view
  if (opts.json) return `${JSON.stringify(view, null, 2)}\n`
  const table = formatTable(
    ['NODE', 'ADDRESS', 'VERSION', 'APPLIED', 'REJECTED', 'LAST SEEN (UTC)', 'STALE', 'REQ/S', '5XX', 'P99 MS', 'RSS MB'],
    nodes.map((n) => [
      n.id,
      n.address,
      n.version,
      n.applied ? `${n.applied.generation} (${n.applied.sha256.slice(0, 12)})` : null,
      n.rejected ? `${n.rejected.generation}: ${n.rejected.error}` : null,
      shortTime(n.lastSeen),
      n.stale ? 'yes' : 'no',
      n.figures?.recent.requestsPerSecond,
      n.figures?.responses['5xx'],
      n.figures?.recent.p99Ms,
      n.figures === undefined ? null : megabytes(n.figures.rssBytes),
    ]),
  )
  const count = `${nodes.length} node${nodes.length === 1 ? '' : 's'}`
  if (summary === undefined) return `${table}${count}\n`
  const s = summary
  const states = `${s.nodes.current} current, ${s.nodes.behind} behind, ${s.nodes.rejected} rejected, ${s.nodes.stale} stale`
  const ratio = s.errorRatio5xx === null ? '-' : `${(s.errorRatio5xx * 100).toFixed(2)}%`
  const figures = `${s.requestsPerSecond} req/s, 5xx ${ratio}, max p99 ${s.maxP99Ms ?? '-'} ms, RSS ${megabytes(s.rssBytes)} MB`
  return `${table}${count} (${states}); ${figures}\n`
}

function megabytes(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1)
}

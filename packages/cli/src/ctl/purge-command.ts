import type { AdminClient } from './admin-client.ts'
import { CtlFailure, EXIT } from './admin-client.ts'

/** `ctl purge --url URL | --prefix URL* [--plugin NAME]`: a fleet-wide cache purge through the admin API. */
export async function purgeCache(client: AdminClient, opts: { url?: string; prefix?: string; plugin?: string }): Promise<string> {
  if ((opts.url === undefined) === (opts.prefix === undefined))
    throw new CtlFailure(EXIT.usage, ['purge needs exactly one of --url and --prefix'])
  const body = JSON.stringify({
    ...(opts.plugin === undefined ? {} : { plugin: opts.plugin }),
    ...(opts.url === undefined ? { prefix: opts.prefix } : { url: opts.url }),
  })
  const result = await client.json<{ id: string }>({ method: 'POST', path: '/cache/purge', body, contentType: 'application/json' })
  return `purge ${result.id} sent to every data plane (${opts.plugin === undefined ? 'all cache instances' : `cache "${opts.plugin}"`})\n`
}

import { defaultTokenStore, resolveAdminTokens, startControlPlane } from '@fleetgate/control-plane'
import { storeKeys } from '@fleetgate/schema'
import { createEtcdStore } from '@fleetgate/store'
import { describeFlags, type FlagSpec, parseFlags } from '../args.ts'
import { etcdConnection, etcdConnectionFlags } from '../etcd-flags.ts'
import { createLogger } from '../logger.ts'
import { onShutdown } from '../signals.ts'

/** Flags of `fleetgate control-plane`. */
export const controlPlaneFlags: Record<string, FlagSpec> = {
  etcd: { type: 'string', help: 'etcd endpoints, comma-separated (required)' },
  cluster: { type: 'string', help: 'cluster name: keys live under /fleetgate/<cluster>/ (required)' },
  listen: { type: 'string', help: 'HOST:PORT of the admin API (default 127.0.0.1:9180)' },
  'admin-token-file': { type: 'string', help: 'file of admin tokens, one a line (or FLEETGATE_ADMIN_TOKEN)' },
  'readonly-token-file': { type: 'string', help: 'file of read-only tokens, one a line (or FLEETGATE_READONLY_TOKEN)' },
  'token-store': { type: 'string', help: 'where a generated admin token is kept (default $HOME/.fleetgate/<cluster>.admin-token)' },
  'log-level': { type: 'string', help: 'trace | debug | info | warn | error' },
  ...etcdConnectionFlags,
  help: { type: 'boolean', short: 'h', help: 'this text' },
}

const USAGE = `usage: fleetgate control-plane --etcd URLS --cluster NAME [--listen HOST:PORT] [flags]\n\n${describeFlags(controlPlaneFlags)}\n`

/** `fleetgate control-plane`: the admin API and publisher over etcd, until SIGTERM. */
export async function controlPlaneCommand(argv: string[]): Promise<number> {
  const { flags } = parseFlags(argv, controlPlaneFlags)
  if (flags.help) {
    process.stdout.write(USAGE)
    return 0
  }
  const endpoints = ((flags.etcd as string | undefined) ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
  const cluster = flags.cluster as string | undefined
  if (endpoints.length === 0 || cluster === undefined) return usageError('--etcd and --cluster are required')
  if (!/^[A-Za-z0-9_.-]+$/.test(cluster)) return usageError(`invalid --cluster "${cluster}" (letters, digits, _ . -)`)
  let connection: ReturnType<typeof etcdConnection>
  try {
    connection = etcdConnection(flags)
  } catch (err) {
    return usageError((err as Error).message)
  }
  const { tokens, generated } = await resolveAdminTokens({
    adminTokenFile: flags['admin-token-file'] as string | undefined,
    readonlyTokenFile: flags['readonly-token-file'] as string | undefined,
    tokenStore: (flags['token-store'] as string | undefined) ?? defaultTokenStore(cluster),
  })
  // Shown once, on stderr and outside the JSON log, so log shipping never carries it.
  if (generated !== null) {
    const where = (flags['token-store'] as string | undefined) ?? defaultTokenStore(cluster)
    process.stderr.write(
      `fleetgate control-plane: generated an admin token (kept in ${where}; shown only this once):\n\n  ${generated}\n\n`,
    )
  }
  const logger = createLogger(flags['log-level'] as string | undefined)
  const store = createEtcdStore({ endpoints, prefix: storeKeys.prefix(cluster), ...connection })
  let controlPlane: Awaited<ReturnType<typeof startControlPlane>>
  try {
    controlPlane = await startControlPlane({ store, listen: (flags.listen as string | undefined) ?? '127.0.0.1:9180', tokens, logger })
  } catch (err) {
    await store.close()
    throw err
  }
  logger.info({ cluster, etcd: endpoints, url: controlPlane.url, readonlyTokens: tokens.readonly.length }, 'control plane started')
  await onShutdown(logger, async () => {
    await controlPlane.close()
    await store.close()
  })
  return 0
}

function usageError(message: string): number {
  process.stderr.write(`fleetgate control-plane: ${message}\n\n${USAGE}`)
  return 2
}

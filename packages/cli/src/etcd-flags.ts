import { readFileSync } from 'node:fs'
import type { EtcdClientOptions } from '@fleetgate/store'
import type { FlagSpec, Flags } from './args.ts'

/** How `proxy --etcd` and `control-plane` reach an etcd cluster that has auth or TLS enabled. */
export const etcdConnectionFlags: Record<string, FlagSpec> = {
  'etcd-username': { type: 'string', help: 'etcd user (etcd auth enabled); the password comes from --etcd-password-file' },
  'etcd-password-file': {
    type: 'string',
    help: 'file holding the etcd password (first line; never given on the command line). FLEETGATE_ETCD_PASSWORD also works',
  },
  'etcd-ca': { type: 'string', help: 'PEM CA bundle for https:// etcd endpoints' },
  'etcd-cert': { type: 'string', help: 'PEM client certificate for etcd (mTLS; with --etcd-key)' },
  'etcd-key': { type: 'string', help: 'PEM client key for etcd (mTLS; with --etcd-cert)' },
}

/** The etcd client's auth and TLS options from the flags; throws a readable error on a bad combination or file. */
export function etcdConnection(flags: Flags, env: NodeJS.ProcessEnv = process.env): Pick<EtcdClientOptions, 'auth' | 'tls'> {
  const out: Pick<EtcdClientOptions, 'auth' | 'tls'> = {}
  const username = flags['etcd-username'] as string | undefined
  const passwordFile = flags['etcd-password-file'] as string | undefined
  if (username !== undefined) {
    let password = env.FLEETGATE_ETCD_PASSWORD
    if (passwordFile !== undefined)
      password = (readFlagFile('--etcd-password-file', passwordFile).toString('utf8').split(/\r?\n/)[0] ?? '').trim()
    if (password === undefined || password === '')
      throw new Error('--etcd-username needs a password: --etcd-password-file FILE or FLEETGATE_ETCD_PASSWORD')
    out.auth = { username, password }
  } else if (passwordFile !== undefined) {
    throw new Error('--etcd-password-file needs --etcd-username')
  }
  const ca = flags['etcd-ca'] as string | undefined
  const cert = flags['etcd-cert'] as string | undefined
  const key = flags['etcd-key'] as string | undefined
  if ((cert === undefined) !== (key === undefined)) throw new Error('--etcd-cert and --etcd-key go together')
  if (ca !== undefined || cert !== undefined) {
    out.tls = {
      ...(ca === undefined ? {} : { ca: readFlagFile('--etcd-ca', ca) }),
      ...(cert === undefined ? {} : { cert: readFlagFile('--etcd-cert', cert) }),
      ...(key === undefined ? {} : { key: readFlagFile('--etcd-key', key) }),
    }
  }
  return out
}

function readFlagFile(flag: string, path: string): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    throw new Error(`${flag}: cannot read "${path}" (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
}

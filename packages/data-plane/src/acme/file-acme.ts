import type { Config } from '@fleetgate/schema'
import type { Logger } from 'pino'
import { type AcmeFolder, openAcmeFolder, overlayIssued, watchIssued } from './acme-folder.ts'
import { type AcmeBackend, type AcmeManager, createAcmeManager } from './acme-manager.ts'
import { folderChallengeSession, mirrorFolderChallenges } from './folder-challenges.ts'
import { type ChallengeAnswers, memoryChallengeSession } from './memory-challenges.ts'
import type { AcmeModeOptions, NodeAcme } from './node-acme.ts'

/** ACME of a file-mode proxy. */
export interface FileAcme extends NodeAcme {
  /** The config with issued certificates from the folder laid over its ACME certificates; apply this one. */
  overlay(config: Config): Promise<Config>
}

/** Options of {@link startFileAcme}. */
export interface FileAcmeOptions extends AcmeModeOptions {
  logger: Logger
  /** The config as loaded from the file, before the overlay. */
  loaded: () => Config | undefined
  /** Called after a certificate was issued and saved: reload so the overlay picks it up. */
  onIssued: () => void
  /** Several worker processes serve the same listeners: share challenges through the folder. */
  workers?: boolean
}

/**
 * ACME of one process serving a config file: issued certificates and the account key live in a
 * folder (mode 0600 files), challenges in memory (in the folder too when several workers share the
 * listeners). With `enabled: false` it only lays certificates already in the folder over the config
 * (worker processes other than the first, or `--no-acme`).
 */
export function startFileAcme(o: FileAcmeOptions): FileAcme {
  const folder = openAcmeFolder(o.dir)
  const answers: ChallengeAnswers = new Map()
  // Workers share challenges and certificates through the folder, watched once a config asks for ACME.
  let watches: Array<{ close(): void }> | undefined
  const share = (config: Config) => {
    if (!o.workers || watches !== undefined) return
    if (!Object.values(config.certificates ?? {}).some((c) => c.acme !== undefined)) return
    watches = [mirrorFolderChallenges(folder.dir, answers, o.logger), watchIssued(folder, o.onIssued, o.logger)]
  }
  const manager: AcmeManager | undefined =
    o.enabled === false
      ? undefined
      : createAcmeManager({
          backend: fileBackend(folder, answers, o),
          logger: o.logger,
          ...(o.caFile ? { caFile: o.caFile } : {}),
          ...(o.intervalMs ? { intervalMs: o.intervalMs } : {}),
          ...(o.firstRetryMs ? { firstRetryMs: o.firstRetryMs } : {}),
        })
  return {
    lookup: (token) => answers.get(token),
    overlay: (config) => overlayIssued(config, folder),
    check(config) {
      share(config)
      manager?.check(config)
    },
    idle: async () => await manager?.idle(),
    async stop() {
      await manager?.stop()
      for (const w of watches ?? []) w.close()
    },
  }
}

/** Time for every worker's folder mirror to see a new challenge (fs.watch, or the 1 s poll). */
const WORKER_SETTLE_MS = 1500

function fileBackend(folder: AcmeFolder, answers: ChallengeAnswers, o: FileAcmeOptions): AcmeBackend {
  return {
    // One process orders; the manager already runs one order at a time.
    exclusive: (_name, work) => work(),
    async read(name) {
      const cert = o.loaded()?.certificates?.[name]
      if (cert === undefined) return undefined
      const issued = await folder.readIssued(name)
      return {
        cert: issued === undefined ? cert : { ...cert, tls_cert: issued.cert, tls_key: issued.key },
        async save(next) {
          await folder.writeIssued(name, next)
          o.onIssued()
        },
      }
    },
    accountKey: (directoryUrl) => folder.accountKey(directoryUrl),
    challenges: async () => (o.workers ? folderChallengeSession(folder.dir, answers, WORKER_SETTLE_MS) : memoryChallengeSession(answers)),
  }
}

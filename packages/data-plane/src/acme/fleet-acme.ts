import type { Store } from '@fleetgate/store'
import type { Logger } from 'pino'
import { type AcmeManager, createAcmeManager } from './acme-manager.ts'
import { createFleetAcmeBackend } from './fleet-acme-backend.ts'
import type { ChallengeAnswers } from './memory-challenges.ts'
import type { AcmeModeOptions, NodeAcme } from './node-acme.ts'
import { mirrorStoreChallenges } from './store-challenges.ts'

/**
 * ACME of a fleet node: every node mirrors `acme/challenges/` (so it answers challenges whoever
 * ordered), and unless disabled runs a manager whose orders are coordinated through the store.
 */
export function startFleetAcme(store: Store, logger: Logger, options: AcmeModeOptions = {}): NodeAcme {
  const answers: ChallengeAnswers = new Map()
  const mirror = mirrorStoreChallenges(store, answers, logger)
  const manager: AcmeManager | undefined =
    options.enabled === false
      ? undefined
      : createAcmeManager({
          backend: createFleetAcmeBackend({ store, answers }),
          logger,
          ...(options.caFile ? { caFile: options.caFile } : {}),
          ...(options.intervalMs ? { intervalMs: options.intervalMs } : {}),
          ...(options.firstRetryMs ? { firstRetryMs: options.firstRetryMs } : {}),
        })
  return {
    lookup: (token) => answers.get(token),
    check: (config) => manager?.check(config),
    idle: async () => await manager?.idle(),
    async stop() {
      await manager?.stop()
      await mirror.close()
    },
  }
}

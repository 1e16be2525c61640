import type { Store, StoreLease, StoreWatch } from '@fleetgate/store'
import type { Logger } from 'pino'
import type { ChallengeSession } from './acme-order.ts'
import type { ChallengeAnswers } from './memory-challenges.ts'

/** Store prefix of published key authorizations, one key per token. */
export const CHALLENGES_PREFIX = 'acme/challenges/'

/** A running mirror of `acme/challenges/`. */
export interface ChallengeMirror {
  close(): Promise<void>
}

const READ_RETRY_MS = 2000

/**
 * Keeps `answers` equal to `acme/challenges/` in the store, on every node, so whichever node the CA
 * reaches answers the challenge. Reads the prefix, then watches from the next revision; a resync
 * re-reads. While the store is down it retries the first read every 2 s.
 */
export function mirrorStoreChallenges(store: Store, answers: ChallengeAnswers, logger: Logger): ChallengeMirror {
  let closed = false
  let watch: StoreWatch | undefined
  let timer: NodeJS.Timeout | undefined
  const read = async (): Promise<number> => {
    const { kvs, revision } = await store.getPrefix(CHALLENGES_PREFIX)
    answers.clear()
    for (const kv of kvs) answers.set(kv.key.slice(CHALLENGES_PREFIX.length), kv.value.toString('utf8'))
    return revision
  }
  const start = async () => {
    try {
      const revision = await read()
      if (closed) return
      watch = store.watch(
        CHALLENGES_PREFIX,
        { prefix: true, fromRevision: revision + 1 },
        {
          onEvents(events) {
            for (const e of events) {
              const token = e.key.slice(CHALLENGES_PREFIX.length)
              if (e.type === 'put') answers.set(token, e.value.toString('utf8'))
              else answers.delete(token)
            }
          },
          async onResync() {
            await read()
          },
          onError: (err) => logger.error({ err }, 'ACME challenge watch failed'),
        },
      )
    } catch (err) {
      if (closed) return
      logger.debug({ reason: (err as Error).message }, 'ACME challenges: store read failed; retrying')
      timer = setTimeout(start, READ_RETRY_MS)
      timer.unref()
    }
  }
  void start()
  return {
    async close() {
      closed = true
      clearTimeout(timer)
      await watch?.close()
    },
  }
}

/** How long a published key authorization lives if the node that wrote it dies mid-order. */
const CHALLENGE_LEASE_SECONDS = 600

/**
 * A session that publishes key authorizations in `acme/challenges/<token>` under a lease (so they
 * vanish if this node dies) and in `local` at once. `settleMs` after each put gives the other nodes'
 * watches time to see it before the CA is told to validate.
 */
export async function storeChallengeSession(store: Store, local: ChallengeAnswers, settleMs: number): Promise<ChallengeSession> {
  const lease: StoreLease = await store.lease(CHALLENGE_LEASE_SECONDS)
  return {
    async publish(token, keyAuthorization) {
      local.set(token, keyAuthorization)
      await lease.put(`${CHALLENGES_PREFIX}${token}`, keyAuthorization)
      if (settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs))
    },
    async withdraw(token) {
      await lease.delete(`${CHALLENGES_PREFIX}${token}`)
    },
    async close() {
      await lease.revoke()
    },
  }
}

import { decodeResource, encodeResource, storeKeys } from '@fleetgate/schema/runtime'
import type { Store } from '@fleetgate/store'
import { createAccountKey } from './account-key.ts'
import { directoryId } from './acme-directory.ts'
import type { AcmeBackend, SourceEntry } from './acme-manager.ts'
import type { IssuedCertificate } from './acme-order.ts'
import type { CertificateEntry } from './certificate-need.ts'
import type { ChallengeAnswers } from './memory-challenges.ts'
import { storeChallengeSession } from './store-challenges.ts'

/** Options of {@link createFleetAcmeBackend}. */
export interface FleetAcmeBackendOptions {
  /** The cluster-scoped store. */
  store: Store
  /** This node's challenge answers (also filled by the mirror of `acme/challenges/`). */
  answers: ChallengeAnswers
  /** TTL of the per-certificate order lock; it is kept alive while the order runs. Default 30 s. */
  lockTtlSeconds?: number
  /** Longest wait for another node's order lock. Default 15 min. */
  lockWaitMs?: number
  /** Pause after publishing a key authorization so every node's mirror has it. Default 1 s. */
  challengeSettleMs?: number
}

/** Lock key of one certificate's orders: one node orders it at a time. */
export const orderLockKey = (name: string) => `control/acme/${name}`
/** Account key of one ACME directory, shared by the fleet. */
export const accountKeyKey = (directoryUrl: string) => `acme/account/${directoryId(directoryUrl)}`

const SAVE_ATTEMPTS = 3

/**
 * ACME state in the fleet's store: the order lock `control/acme/<name>`, the account key
 * `acme/account/<directory id>`, key authorizations under `acme/challenges/`, and issued certificates
 * written into `desired/certificates/<name>` (tls_cert and tls_key inline, every other key kept), from
 * where the control plane publishes them as a new version that every node applies.
 */
export function createFleetAcmeBackend(o: FleetAcmeBackendOptions): AcmeBackend {
  const { store } = o
  return {
    async exclusive(name, work, signal) {
      const wait = AbortSignal.any([signal, AbortSignal.timeout(o.lockWaitMs ?? 900_000)])
      const lock = await store.lock(orderLockKey(name), o.lockTtlSeconds ?? 30, { signal: wait })
      try {
        return await work()
      } finally {
        await lock.release().catch(() => {})
      }
    },
    read: (name) => readEntry(store, name),
    async accountKey(directoryUrl) {
      const key = accountKeyKey(directoryUrl)
      const existing = await store.get(key)
      if (existing) return existing.value.toString('utf8')
      const created = createAccountKey()
      const res = await store.txn({
        compares: [{ key, target: 'create', op: '==', value: 0 }],
        success: [{ type: 'put', key, value: created }],
      })
      if (res.succeeded) return created
      const winner = await store.get(key)
      if (!winner) throw new Error(`${key} vanished while it was being created`)
      return winner.value.toString('utf8')
    },
    challenges: () => storeChallengeSession(store, o.answers, o.challengeSettleMs ?? 1000),
  }
}

async function readEntry(store: Store, name: string): Promise<SourceEntry | undefined> {
  const key = storeKeys.desired('certificates', name)
  const stored = await store.get(key)
  if (!stored) return undefined
  const raw = decodeResource(stored.value.toString('utf8'), 'certificates', name)
  return {
    cert: raw as CertificateEntry & { acme?: string; acme_email?: string },
    save: (issued) => saveIssued(store, name, raw, stored.modRevision, issued),
  }
}

/**
 * Writes the issued certificate into the entry, guarded by its mod revision. An edit that landed
 * meanwhile is kept: the write is re-planned on it, as long as it still orders the same names.
 */
async function saveIssued(
  store: Store,
  name: string,
  basis: Record<string, unknown>,
  modRevision: number,
  issued: IssuedCertificate,
): Promise<void> {
  const key = storeKeys.desired('certificates', name)
  let raw = basis
  let revision = modRevision
  for (let attempt = 0; attempt < SAVE_ATTEMPTS; attempt++) {
    const value = encodeResource({ ...raw, tls_cert: issued.cert, tls_key: issued.key })
    const res = await store.txn({ compares: [{ key, target: 'mod', op: '==', value: revision }], success: [{ type: 'put', key, value }] })
    if (res.succeeded) return
    const fresh = await store.get(key)
    if (!fresh) throw new Error(`${key} was deleted while ordering`)
    const next = decodeResource(fresh.value.toString('utf8'), 'certificates', name)
    if (next.acme === undefined || !sameNames(next.domains, basis.domains)) throw new Error(`${key} changed while ordering`)
    raw = next
    revision = fresh.modRevision
  }
  throw new Error(`${key} kept changing while saving the issued certificate`)
}

function sameNames(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? []) === JSON.stringify(b ?? [])
}

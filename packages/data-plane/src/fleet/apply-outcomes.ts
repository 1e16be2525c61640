import type { CurrentPointer } from '@fleetgate/schema'
import type { DataPlaneMetrics } from '../metrics.ts'
import type { AppliedVersion } from './config-sync.ts'
import type { NodeReporter } from './node-reporter.ts'

/** Records each apply outcome in the metrics and in `nodes/<id>` (ACK / NACK). */
export interface ApplyOutcomes {
  applied(version: AppliedVersion, seconds: number): void
  rejected(pointer: CurrentPointer, error: string): void
  /** `current` went back to the version serving: the node's NACK is cleared. */
  recovered(): void
}

/**
 * Creates the recorder. An ACK of a version read from the store clears the NACK: the store's
 * `current` names what was applied, so a rejected generation is no longer current, whatever its
 * number. Applying the cache file at start clears only a NACK of an older generation.
 */
export function createApplyOutcomes(metrics: DataPlaneMetrics, reporter: NodeReporter): ApplyOutcomes {
  return {
    applied(version, seconds) {
      metrics.configGeneration.set(version.gen)
      metrics.configApplies.inc({ result: 'ack' })
      metrics.configApplySeconds.set(seconds)
      const rejected = reporter.status().rejected
      reporter.update({
        applied: { gen: version.gen, sha256: version.sha256, at: new Date().toISOString() },
        source: version.source,
        rejected: rejected && version.source === 'cache' && rejected.gen > version.gen ? rejected : null,
      })
    },
    rejected(pointer, error) {
      metrics.configApplies.inc({ result: 'nack' })
      reporter.update({ rejected: { gen: pointer.gen, error, at: new Date().toISOString() } })
    },
    recovered() {
      reporter.update({ rejected: null })
    },
  }
}

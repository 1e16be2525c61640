import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import type { ConfigService, FleetNode } from './service-types.ts'

/** How a publish attempt ended, as the `result` label shows it. */
export type PublishResultLabel = 'ok' | 'unchanged' | 'held' | 'rejected' | 'error'

/** What a publish was started by, as the `source` label shows it. */
export type PublishSource = 'api' | 'edit' | 'rollback'

/** The control plane's Prometheus metrics (GET /metrics); see createControlPlaneMetrics. */
export interface ControlPlaneMetrics {
  readonly registry: Registry
  /** Counts and times one publish attempt. */
  recordPublish(source: PublishSource, result: PublishResultLabel, seconds: number): void
  /** Counts a config found invalid (a rejected write or publish, or a failed POST /validate). */
  recordValidationFailure(): void
  /** Counts a call that failed because the store (etcd) did not answer. */
  recordStoreError(): void
  /** The service whose current generation and fleet the scrape-time gauges read. */
  observe(service: ConfigService): void
}

/** The states `fleetgate_control_plane_nodes` counts, one series each (always present, maybe 0). */
const NODE_STATES = ['current', 'behind', 'rejected', 'stale'] as const
type NodeState = (typeof NODE_STATES)[number]

/**
 * One node's state against the current generation: stale (not heard from), rejected (it refused the
 * current generation), current (it applied it) or behind (anything older, or nothing yet).
 */
export function nodeState(node: FleetNode, generation: number | null): NodeState {
  if (node.stale) return 'stale'
  if (generation !== null && node.rejected !== null && node.rejected.generation >= generation) return 'rejected'
  if (generation !== null && node.applied?.generation === generation) return 'current'
  return 'behind'
}

/**
 * Creates the registry: publishes by source and result, their duration, validation failures,
 * rollbacks, store errors, and two scrape-time gauges read from the store (the current generation
 * and the fleet's nodes by state), plus the process metrics.
 */
export function createControlPlaneMetrics(): ControlPlaneMetrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  // Duplicates of nodejs_active_* under a "_total" name, which `promtool check metrics` flags.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(name)
  }
  const registers = [registry]
  const publishes = new Counter({
    name: 'fleetgate_control_plane_publishes_total',
    help: 'Publish attempts by what started them (api, edit, rollback) and how they ended (ok, unchanged, held, rejected, error)',
    labelNames: ['source', 'result'],
    registers,
  })
  const publishSeconds = new Histogram({
    name: 'fleetgate_control_plane_publish_duration_seconds',
    help: 'Time a publish attempt took, lock wait and store round trips included',
    labelNames: ['source'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  })
  const validationFailures = new Counter({
    name: 'fleetgate_control_plane_validation_failures_total',
    help: 'Configs found invalid: rejected writes and publishes, failed validate calls',
    registers,
  })
  const rollbacks = new Counter({ name: 'fleetgate_control_plane_rollbacks_total', help: 'Rollbacks that succeeded', registers })
  const storeErrors = new Counter({
    name: 'fleetgate_control_plane_store_errors_total',
    help: 'Calls that failed because the config store (etcd) did not answer',
    registers,
  })
  let service: ConfigService | undefined
  // One store read per scrape, shared by both gauges.
  let reading: Promise<{ generation: number | null; nodes: FleetNode[] } | undefined> | undefined
  const readState = () => {
    reading ??= (async () => {
      if (service === undefined) return undefined
      try {
        const [status, fleet] = await Promise.all([service.publishStatus(), service.fleet()])
        return { generation: status.generation, nodes: fleet.nodes }
      } catch {
        storeErrors.inc()
        return undefined
      }
    })().finally(() => setImmediate(() => (reading = undefined)))
    return reading
  }
  new Gauge({
    name: 'fleetgate_control_plane_generation',
    help: 'Generation of the current published version (0 before the first publish; the last known one while the store is down)',
    registers,
    async collect() {
      const state = await readState()
      if (state !== undefined) this.set(state.generation ?? 0)
    },
  })
  new Gauge({
    name: 'fleetgate_control_plane_store_up',
    help: 'Whether the config store (etcd) answered the reads of this scrape (1) or not (0)',
    registers,
    async collect() {
      this.set((await readState()) === undefined ? 0 : 1)
    },
  })
  new Gauge({
    name: 'fleetgate_control_plane_nodes',
    help: 'Data planes by state: current (applied the current generation), behind, rejected (refused it), stale (silent); last known while the store is down',
    labelNames: ['state'],
    registers,
    async collect() {
      const state = await readState()
      if (state === undefined) return
      const counts = new Map<NodeState, number>(NODE_STATES.map((s) => [s, 0]))
      for (const node of state.nodes) {
        const s = nodeState(node, state.generation)
        counts.set(s, (counts.get(s) ?? 0) + 1)
      }
      for (const [s, n] of counts) this.set({ state: s }, n)
    },
  })
  return {
    registry,
    recordPublish(source, result, seconds) {
      publishes.inc({ source, result })
      publishSeconds.observe({ source }, seconds)
      if (source === 'rollback' && (result === 'ok' || result === 'unchanged')) rollbacks.inc()
      if (result === 'rejected') validationFailures.inc()
    },
    recordValidationFailure: () => validationFailures.inc(),
    recordStoreError: () => storeErrors.inc(),
    observe(next) {
      service = next
    },
  }
}

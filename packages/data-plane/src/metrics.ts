import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client'
import { registerTlsMetrics } from './tls/tls-metrics.ts'

/** The data plane's Prometheus metrics; one set per process. */
export interface DataPlaneMetrics {
  registry: Registry
  configGeneration: Gauge
  configApplies: Counter<'result'>
  configApplySeconds: Gauge
}

/** Creates the registry with process metrics and the config metrics. */
export function createMetrics(): DataPlaneMetrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  // prom-client also exports these gauges under a "_total" name, which `promtool check metrics`
  // flags; the same figures remain as nodejs_active_handles, _requests and _resources.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(name)
  }
  registerTlsMetrics(registry)
  return {
    registry,
    configGeneration: new Gauge({ name: 'fleetgate_config_generation', help: 'Generation of the applied config', registers: [registry] }),
    configApplies: new Counter({
      name: 'fleetgate_config_apply_total',
      help: 'Config versions applied (ack) or rejected (nack)',
      labelNames: ['result'],
      registers: [registry],
    }),
    configApplySeconds: new Gauge({
      name: 'fleetgate_config_apply_duration_seconds',
      help: 'Time the last config apply took (compile, listeners, swap)',
      registers: [registry],
    }),
  }
}

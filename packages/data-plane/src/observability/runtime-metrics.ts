import { Counter, Gauge, type Registry } from 'prom-client'
import { pluginCounters, splitCounterKey } from '../plugins/plugin-counters.ts'
import type { UpstreamBackend } from '../upstream/backend.ts'
import type { Upstream } from '../upstream/types.ts'

const CIRCUIT_STATES = ['closed', 'open', 'half_open'] as const

/**
 * Scrape-time metrics of the gateway's moving parts, costing requests nothing: each backend's
 * circuit state and ejections, plugin failures and refusals (rate limiting's 429s among them).
 */
export function registerRuntimeMetrics(registry: Registry, upstreams: () => Iterable<Upstream>): void {
  const registers = [registry]
  const backends = function* () {
    for (const upstream of upstreams()) {
      for (const b of upstream.backends) if ('breaker' in b) yield [upstream.name, b as UpstreamBackend] as const
    }
  }
  new Gauge({
    name: 'fleetgate_upstream_circuit_state',
    help: 'Circuit breaker state of each backend: 1 for the state it is in (closed, open, half_open), 0 for the others',
    labelNames: ['upstream', 'backend', 'state'],
    registers,
    collect() {
      this.reset()
      const now = Date.now()
      for (const [upstream, b] of backends()) {
        const current = b.breaker.state(now)
        for (const state of CIRCUIT_STATES) this.set({ upstream, backend: b.id, state }, state === current ? 1 : 0)
      }
    },
  })
  new Counter({
    name: 'fleetgate_upstream_ejections_total',
    help: 'Times a backend was ejected (its circuit opened after consecutive failures); restarts when its upstream is re-created',
    labelNames: ['upstream', 'backend'],
    registers,
    collect() {
      this.reset()
      for (const [upstream, b] of backends()) this.inc({ upstream, backend: b.id }, b.ejections)
    },
  })
  new Counter({
    name: 'fleetgate_plugin_errors_total',
    help: 'Plugin hooks that threw (answered 500 or logged), by plugin instance and phase',
    labelNames: ['plugin', 'phase'],
    registers,
    collect() {
      this.reset()
      for (const [key, n] of pluginCounters.failures) {
        const [plugin, phase] = splitCounterKey(key)
        this.inc({ plugin, phase }, n)
      }
    },
  })
  new Counter({
    name: 'fleetgate_plugin_refusals_total',
    help: 'Requests a plugin refused (401, 403, 413, 429, ...), by plugin instance and code; RATE_LIMITED and TOO_MANY_INFLIGHT are the limit plugin',
    labelNames: ['plugin', 'code'],
    registers,
    collect() {
      this.reset()
      for (const [key, n] of pluginCounters.refusals) {
        const [plugin, code] = splitCounterKey(key)
        this.inc({ plugin, code }, n)
      }
    },
  })
}

import { connect } from 'node:net'
import type { HealthCheckSpec } from '@fleetgate/schema'
import { Agent, request } from 'undici'
import { backendOrigin, type UpstreamBackend } from './backend.ts'
import { type GrpcHealthTarget, probeGrpcHealth } from './grpc-health-probe.ts'
import type { Logger } from './logger.ts'
import { tlsConnectOptions, type UpstreamTls } from './tls-options.ts'

/** What a health checker needs besides its spec and backends. */
export interface HealthCheckerDeps {
  logger: Logger
  /** Upstream name, for logs. */
  upstream: string
  /** TLS settings used by https checks (SNI, verification, CA). */
  tls: UpstreamTls
}

/** Active health checks of one upstream's backends. */
export interface HealthChecker {
  /** Runs a round now, then one every interval (idempotent). */
  start(): void
  /** Stops scheduling and abandons any check in flight. */
  stop(): Promise<void>
}

/**
 * Checks every backend once per round, all in parallel; the next round is scheduled only
 * when the current one has finished, so rounds never overlap. `failure` consecutive failed
 * checks mark a backend down, `success` consecutive good ones mark it up again.
 */
export function createHealthChecker(spec: HealthCheckSpec, backends: readonly UpstreamBackend[], deps: HealthCheckerDeps): HealthChecker {
  // A dedicated agent keeps checks out of the request pools' queues; each check opens a
  // fresh connection (reset) so it proves the backend still accepts connections.
  const agent = spec.kind === 'http' || spec.kind === 'https' ? createCheckAgent(spec, deps.tls) : undefined
  // Aborted by stop(), so no check outlives its checker.
  const stopping = new AbortController()
  const probes: ProbeState[] = backends.map((b) => ({
    backend: b,
    run: createProbe(spec, b, agent, stopping.signal, deps.tls),
    successes: 0,
    failures: 0,
  }))
  let timer: NodeJS.Timeout | undefined
  let started = false
  let stopped = false

  const round = async () => {
    timer = undefined
    await Promise.all(
      probes.map(async (probe) => {
        const failure = await probe.run()
        if (!stopped) recordResult(probe, failure, spec, deps)
      }),
    )
    if (!stopped) timer = setTimeout(round, spec.intervalMs).unref()
  }

  return {
    start() {
      if (started || stopped) return
      started = true
      void round()
    },
    async stop() {
      stopped = true
      stopping.abort()
      if (timer !== undefined) clearTimeout(timer)
      await agent?.destroy()
    },
  }
}

/** A check of one backend: resolves undefined on success, or a short reason on failure. */
type Probe = () => Promise<string | undefined>

/** One backend's check and its run of consecutive results. */
interface ProbeState {
  backend: UpstreamBackend
  run: Probe
  successes: number
  failures: number
}

/** Counts a check result and flips the backend once a run reaches its threshold. */
function recordResult(probe: ProbeState, failure: string | undefined, spec: HealthCheckSpec, deps: HealthCheckerDeps): void {
  const { backend } = probe
  const ok = failure === undefined
  probe.successes = ok ? probe.successes + 1 : 0
  probe.failures = ok ? 0 : probe.failures + 1
  const fields = { upstream: deps.upstream, backend: backend.id, check: spec.kind }
  if (!ok && backend.isUp && probe.failures >= spec.failure) {
    backend.setUp(false)
    deps.logger.warn({ ...fields, reason: failure }, 'backend marked down by health check')
  } else if (ok && !backend.isUp && probe.successes >= spec.success) {
    backend.setUp(true)
    deps.logger.info(fields, 'backend marked up by health check')
  } else if (!ok) {
    deps.logger.debug({ ...fields, reason: failure }, 'health check failed')
  }
}

function createProbe(
  spec: HealthCheckSpec,
  backend: UpstreamBackend,
  agent: Agent | undefined,
  stopping: AbortSignal,
  tls: UpstreamTls,
): Probe {
  if (spec.kind === 'grpc' || spec.kind === 'grpcs') {
    const target: GrpcHealthTarget = {
      host: backend.host,
      port: backend.port,
      tls: spec.kind === 'grpcs' ? tls : undefined,
      authority: spec.host === '' ? `${backend.host.includes(':') ? `[${backend.host}]` : backend.host}:${backend.port}` : spec.host,
      service: spec.service,
      timeoutMs: spec.timeoutMs,
    }
    return () => probeGrpcHealth(target, stopping)
  }
  if (agent === undefined) return () => probeTcp(backend.host, backend.port, spec.timeoutMs, stopping)
  const url = backendOrigin(spec.kind, backend.host, backend.port) + spec.path
  const headers = spec.host === '' ? {} : { host: spec.host }
  return async () => {
    try {
      const res = await request(url, {
        dispatcher: agent,
        method: 'GET',
        headers,
        reset: true,
        signal: AbortSignal.any([stopping, AbortSignal.timeout(spec.timeoutMs)]),
      })
      await res.body.dump()
      return res.statusCode >= 200 && res.statusCode < 400 ? undefined : `status ${res.statusCode}`
    } catch (err) {
      return (err as Error).message
    }
  }
}

function createCheckAgent(spec: HealthCheckSpec, tls: UpstreamTls): Agent {
  // Without an explicit `sni`, https checks name the host of the check URL.
  const servername = spec.host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')
  return new Agent({
    connect: {
      timeout: spec.timeoutMs,
      ...(spec.kind === 'https' ? tlsConnectOptions(tls, servername) : {}),
    },
    headersTimeout: spec.timeoutMs,
    bodyTimeout: spec.timeoutMs,
  })
}

function probeTcp(host: string, port: number, timeoutMs: number, signal: AbortSignal): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, signal })
    const done = (reason: string | undefined) => {
      socket.destroy()
      resolve(reason)
    }
    socket.setTimeout(timeoutMs, () => done(`no connection within ${timeoutMs}ms`))
    socket.once('connect', () => done(undefined))
    socket.once('error', (err) => done(err.message))
  })
}

import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Config } from '@fleetgate/schema'
import { runStepsCooperatively, type Steps } from '@fleetgate/schema/runtime'
import type { Logger } from 'pino'
import { sendError } from './error-response.ts'
import { ERROR_CODES } from './errors.ts'
import { tuneHeapForProxying } from './heap-tuning.ts'
import { type Listener, listenerKind, openListener } from './listener.ts'
import type { GatewayObservability } from './observability/observability.ts'
import { abortInstances, droppedInstances, type PluginInstance } from './plugins/instances.ts'
import type { ForwardOutcome } from './proxy/forward.ts'
import { handleRequest, type RequestObserver } from './proxy/handler.ts'
import { UpgradeResponse } from './proxy/upgrade-response.ts'
import { compileSnapshotSteps, type Snapshot, type SnapshotMeta } from './snapshot.ts'
import type { Upstream } from './upstream/types.ts'

/** Options of a gateway process. */
export interface GatewayOptions {
  logger: Logger
  /** server name -> "host:port", overriding `[servers.NAME] addr` on this node. */
  listenOverrides?: ReadonlyMap<string, string>
  /** Called once per finished request; default: log the gateway's own errors. */
  observe?: RequestObserver
  /** Request metrics and access logs, prepared for each snapshot before it goes live. */
  observability?: GatewayObservability
  /** Bind listeners with SO_REUSEPORT (worker processes sharing addresses). */
  reusePort?: boolean
  /**
   * ACME HTTP-01: the key authorization for a challenge token, or undefined when the token is
   * unknown. Asked for every `GET /.well-known/acme-challenge/TOKEN` on every listener, before routing.
   */
  acmeChallenge?: (token: string) => string | undefined
}

/** What the status endpoint and the fleet report show about the applied config. */
export interface GatewayStatus {
  generation: number | null
  sha256: string | null
  source: string | null
  appliedAt: string | null
  lastError: string | null
}

/** The data plane: listeners serving the current snapshot, swapped atomically by apply(). */
export interface Gateway {
  /** The snapshot new requests use; undefined until the first apply. */
  readonly current: Snapshot | undefined
  /** Compiles `config`, opens new listeners, swaps, retires the old snapshot. Rejects whole on any error. */
  apply(config: Config, meta: SnapshotMeta): Promise<void>
  /** Records a rejected config (shown by status()). */
  reject(message: string): void
  /** The source went back to the config serving: the last rejection no longer stands. */
  clearRejection(): void
  status(): GatewayStatus
  /** Requests in progress, across the current and retiring snapshots. */
  activeRequests(): number
  /** The port a configured listen address is bound to (for port 0 in tests). */
  boundPort(serverName: string): number | undefined
  /** Stops accepting, waits up to the grace period for in-flight requests, closes everything. */
  shutdown(): Promise<void>
}

/** Logs every request the gateway answered with an error of its own; the access log is separate. */
function logErrors(logger: Logger): RequestObserver {
  return (req, server, location, outcome) => {
    if (outcome.error === undefined) return
    const cause = outcome.cause as { code?: string; message?: string } | undefined
    // Client mistakes (404, 413, ...) are routine on a public listener: debug; gateway-side failures: warn.
    logger[outcome.status >= 500 ? 'warn' : 'debug'](
      {
        code: outcome.error,
        status: outcome.status,
        server: server.name,
        location,
        method: req.method,
        path: req.url,
        backend: outcome.backend,
        attempts: outcome.attempts,
        cause: cause === undefined ? undefined : `${cause.code ?? ''} ${cause.message ?? ''}`.trim(),
      },
      'request failed',
    )
  }
}

const ACME_CHALLENGE_PATH = '/.well-known/acme-challenge/'

/** Answers an ACME HTTP-01 challenge whose token is known; false to let the request route normally. */
function answerAcmeChallenge(req: IncomingMessage, res: ServerResponse, lookup: (token: string) => string | undefined): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false
  const token = (req.url as string).slice(ACME_CHALLENGE_PATH.length)
  const keyAuthorization = /^[A-Za-z0-9_-]+$/.test(token) ? lookup(token) : undefined
  if (keyAuthorization === undefined) return false
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(keyAuthorization) })
  res.end(req.method === 'HEAD' ? undefined : keyAuthorization)
  return true
}

/** Creates a gateway with no config applied (not ready) and no listeners. */
export function createGateway(options: GatewayOptions): Gateway {
  tuneHeapForProxying()
  const { logger } = options
  const listenOverrides = options.listenOverrides ?? new Map<string, string>()
  const observability = options.observability
  const record = withObservability(options.observe ?? logErrors(logger), observability)
  const listeners = new Map<string, Listener>()
  let current: Snapshot | undefined
  let lastError: string | null = null
  let applying: Promise<void> = Promise.resolve()
  let shuttingDown = false
  /** Set when the grace period of a shutdown ended and the connections left were closed. */
  let cut = false
  // From then on a request ending with its connection gone was cut off by the gateway, not the client.
  const observe: RequestObserver = (req, server, location, outcome) => {
    if (cut && outcome.error === 'CLIENT_CLOSED') markShutdownCut(outcome)
    record(req, server, location, outcome)
  }
  let active = 0

  const acmeChallenge = options.acmeChallenge
  const onRequest = (key: string) => (req: IncomingMessage, res: ServerResponse) => {
    if (acmeChallenge !== undefined && req.url?.startsWith(ACME_CHALLENGE_PATH) && answerAcmeChallenge(req, res, acmeChallenge)) return
    const snap = current
    const server = snap?.serversByListen.get(key)
    if (snap === undefined || server === undefined || shuttingDown) {
      if (shuttingDown) res.setHeader('connection', 'close')
      sendError(req, res, shuttingDown ? 'SHUTTING_DOWN' : 'NO_ROUTE')
      return
    }
    snap.inflight++
    active++
    observability?.start(req, res)
    res.once('close', () => release(snap))
    try {
      handleRequest(snap, server, req, res, observe)
    } catch (err) {
      logger.error({ err, url: req.url }, 'request handler failed')
      sendError(req, res, 'INTERNAL')
      observe(req, server, undefined, { status: res.statusCode, backend: undefined, attempts: 0, error: 'INTERNAL', cause: err })
    }
  }

  // A WebSocket Upgrade takes the same path as a request; its response is written on the handed-over socket.
  const onUpgrade = (key: string) => {
    const handle = onRequest(key)
    return (req: IncomingMessage, socket: Duplex, head: Buffer) => handle(req, new UpgradeResponse(req, socket as Socket, head))
  }

  const retiring = new Map<Snapshot, Upstream[]>()
  const retiringPlugins = new Map<Snapshot, PluginInstance[]>()
  const release = (snap: Snapshot) => {
    snap.inflight--
    active--
    if (snap.inflight === 0) closeRetired(snap)
  }
  const closeRetired = (snap: Snapshot) => {
    const upstreams = retiring.get(snap)
    if (upstreams === undefined) return
    retiring.delete(snap)
    for (const upstream of upstreams) void upstream.close()
    abortInstances(retiringPlugins.get(snap) ?? [])
    retiringPlugins.delete(snap)
  }

  async function reconcileListeners(next: Snapshot): Promise<Listener[]> {
    const opened: Listener[] = []
    try {
      for (const [key, server] of next.serversByListen) {
        const existing = listeners.get(key)
        if (existing !== undefined) {
          if (existing.kind === listenerKind(server)) continue
          // Plain <-> TLS or HTTP/2 on/off: the address is re-bound with the new kind; open
          // connections of the old one finish on it.
          logger.info({ listen: key, from: existing.kind, to: listenerKind(server) }, 'listener kind changed, re-opening')
          listeners.delete(key)
          void existing.close()
          await new Promise(setImmediate) // the listening handle is released; open connections drain on their own
        }
        const [host, port] = splitKey(key)
        const handlers = { onRequest: onRequest(key), onUpgrade: onUpgrade(key) }
        opened.push(await openListener(key, host, port, server, handlers, options.reusePort ?? false))
      }
    } catch (err) {
      await Promise.all(opened.map((l) => l.close()))
      throw err
    }
    return opened
  }

  async function applyNow(config: Config, meta: SnapshotMeta): Promise<void> {
    const started = performance.now()
    const steps = compileSnapshotSteps(config, meta, current, { listenOverrides, logger })
    const { snapshot: next, created, createdPlugins, createdCertificates } = await runStepsCooperatively(steps)
    let opened: Listener[]
    try {
      await observability?.prepare(next)
      opened = await reconcileListeners(next)
    } catch (err) {
      for (const upstream of created) void upstream.close()
      abortInstances(createdPlugins)
      createdCertificates?.close()
      throw err
    }
    const previous = current
    current = next
    lastError = null
    for (const listener of opened) listeners.set(listener.key, listener)
    for (const [key, listener] of listeners) {
      const server = next.serversByListen.get(key)
      if (server !== undefined) listener.configure(server)
      else {
        listeners.delete(key)
        void listener.close()
      }
    }
    createdCertificates?.start()
    if (previous !== undefined && previous.certificates !== next.certificates) previous.certificates.close()
    if (previous !== undefined) retire(previous, next)
    // Each start runs a first round of health checks at once: thousands of them in one turn would stall requests.
    await runStepsCooperatively(startUpstreams(created))
    logger.info(
      { generation: meta.generation, sha256: meta.sha256, source: meta.source, ms: Math.round(performance.now() - started) },
      'config applied',
    )
  }

  function retire(previous: Snapshot, next: Snapshot) {
    const dropped = [...previous.upstreams.values()].filter((u) => next.upstreams.get(u.name) !== u)
    const droppedPlugins = droppedInstances(previous.plugins, next.plugins)
    if (dropped.length === 0 && droppedPlugins.length === 0) return
    retiring.set(previous, dropped)
    retiringPlugins.set(previous, droppedPlugins)
    if (previous.inflight === 0) closeRetired(previous)
  }

  return {
    get current() {
      return current
    },
    apply(config, meta) {
      const run = applying.then(() => applyNow(config, meta))
      applying = run.catch(() => {})
      return run
    },
    reject(message) {
      lastError = message
    },
    clearRejection() {
      lastError = null
    },
    status() {
      return {
        generation: current?.meta.generation ?? null,
        sha256: current?.meta.sha256 ?? null,
        source: current?.meta.source ?? null,
        appliedAt: current?.appliedAt.toISOString() ?? null,
        lastError,
      }
    },
    activeRequests: () => active,
    boundPort(serverName) {
      for (const [key, server] of current?.serversByListen ?? []) {
        if (server.name === serverName) return listeners.get(key)?.port
      }
      return undefined
    },
    async shutdown() {
      shuttingDown = true
      const grace = current?.gracePeriodMs ?? 10_000
      const closing = Promise.all([...listeners.values()].map((l) => l.close()))
      // Keep-alive connections whose last response ends during the drain are closed as they go idle.
      const sweep = setInterval(() => {
        for (const l of listeners.values()) l.server.closeIdleConnections()
      }, 100)
      const timer = setTimeout(() => {
        cut = true
        for (const l of listeners.values()) l.destroy()
      }, grace)
      await closing
      clearInterval(sweep)
      clearTimeout(timer)
      for (const upstream of current?.upstreams.values() ?? []) await upstream.close()
      abortInstances(current?.plugins.values() ?? [])
    },
  }
}

/**
 * Records a request cut off at the end of the grace period as SHUTDOWN_CUT: 503 when no head
 * went out (CLIENT_CLOSED's 499 otherwise), the head's status when its body was cut.
 */
function markShutdownCut(outcome: ForwardOutcome): void {
  outcome.error = 'SHUTDOWN_CUT'
  if (outcome.status === ERROR_CODES.CLIENT_CLOSED.status) outcome.status = ERROR_CODES.SHUTDOWN_CUT.status
}

/** The observer the handler calls: the base one, then metrics and access logs when enabled. */
function withObservability(base: RequestObserver, observability: GatewayObservability | undefined): RequestObserver {
  if (observability === undefined) return base
  return (req, server, location, outcome) => {
    base(req, server, location, outcome)
    observability.observe(req, server, location, outcome)
  }
}

/** Starts the upstreams (health checks) one step each; one closed meanwhile by a later apply stays stopped. */
function* startUpstreams(upstreams: readonly Upstream[]): Steps<void> {
  for (const upstream of upstreams) {
    upstream.start()
    yield
  }
}

function splitKey(key: string): [string, number] {
  const addr = key.split('/')[0] as string
  const i = addr.lastIndexOf(':')
  return [addr.slice(0, i), Number(addr.slice(i + 1))]
}

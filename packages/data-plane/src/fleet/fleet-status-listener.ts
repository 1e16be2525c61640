import type { Server } from 'node:http'
import { parseListenAddr } from '@fleetgate/schema/runtime'
import type { Logger } from 'pino'
import { createDebugEndpoints } from '../debug-endpoints.ts'
import type { Gateway, GatewayStatus } from '../gateway.ts'
import type { DataPlaneMetrics } from '../metrics.ts'
import { openStatusServer } from '../status-server.ts'

/** The fleet node's status listener, which may open after start (see {@link createFleetStatusListener}). */
export interface FleetStatusListener {
  /** The bound port once open. */
  port(): number | undefined
  /** Opens the listener if it is not open and an address is known; a failure to bind throws only for `statusAddr`. */
  open(): Promise<void>
  close(): void
}

/** The status listener, opened at `statusAddr` at once, or at `[metrics] addr` once a config names one. */
export function createFleetStatusListener(
  statusAddr: string | undefined,
  gateway: Gateway,
  metrics: DataPlaneMetrics,
  /** What /status serves: the gateway's status and whatever the caller adds. */
  status: () => GatewayStatus,
  logger: Logger,
  /** Bearer tokens of `/debug/*`; none: those paths are 404. */
  debugTokens?: readonly string[],
): FleetStatusListener {
  let server: (Server & { port: number }) | undefined
  let opening: Promise<void> | undefined
  const openAt = async (addr: string) => {
    const { host, port } = parseListenAddr(addr)
    server = await openStatusServer(host, port, {
      registry: metrics.registry,
      metricsPath: gateway.current?.config.metrics.path ?? '/metrics',
      isReady: () => gateway.current !== undefined,
      status: () => ({ ...status() }),
      debug: debugTokens?.length ? createDebugEndpoints(debugTokens) : undefined,
    })
    logger.info({ addr, port: server.port }, 'status listener ready')
  }
  return {
    port: () => server?.port,
    async open(): Promise<void> {
      if (server || opening) return await opening
      const addr = statusAddr ?? gateway.current?.config.metrics.addr
      if (addr === undefined) return
      opening = openAt(addr).catch((err: unknown) => {
        opening = undefined
        if (statusAddr !== undefined) throw err
        logger.error({ err, addr }, 'could not open the status listener')
      })
      await opening
    },
    close(): void {
      server?.close()
      server?.closeAllConnections()
    },
  }
}

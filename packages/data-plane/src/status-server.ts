import { createServer, type Server } from 'node:http'
import type { Registry } from 'prom-client'
import type { DebugEndpoints } from './debug-endpoints.ts'
import type { GatewayStatus } from './gateway.ts'

/** What the status listener reports on. */
export interface StatusSource {
  status(): GatewayStatus & Record<string, unknown>
  isReady(): boolean
  registry: Registry
  metricsPath: string
  /** `/debug/*` (profiling, token only); absent when no debug token is configured, so those paths are 404. */
  debug?: DebugEndpoints | undefined
}

/**
 * Serves /livez (the process answers), /readyz (503 until a config is applied), /status
 * (JSON) and the Prometheus metrics path. Never depends on etcd.
 */
export async function openStatusServer(host: string, port: number, source: StatusSource): Promise<Server & { port: number }> {
  const server = createServer((req, res) => {
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const path = q < 0 ? url : url.slice(0, q)
    const json = (status: number, body: unknown) => {
      const text = `${JSON.stringify(body)}\n`
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(text)
    }
    if (path === '/livez') return json(200, { status: 'ok' })
    if (path === '/readyz') return source.isReady() ? json(200, { status: 'ready' }) : json(503, { status: 'not ready' })
    if (path === '/status') return json(200, source.status())
    if (path === source.metricsPath) {
      source.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': source.registry.contentType }).end(text),
        (err: Error) => json(500, { error: err.message }),
      )
      return
    }
    if (source.debug?.(req, res, path, new URLSearchParams(q < 0 ? '' : url.slice(q + 1)))) return
    json(404, { error: { code: 'NO_ROUTE', status: 404, message: 'try /livez, /readyz, /status or /metrics' } })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host, port }, () => resolve())
  })
  return Object.assign(server, { port: (server.address() as { port: number }).port })
}

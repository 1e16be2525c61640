import { createServer, type Server } from 'node:http'
import type { Logger } from 'pino'

/**
 * A tiny backend for the quick start: answers every request with JSON describing what it
 * received (method, path, the headers the gateway added), so `curl` shows the proxy at work.
 */
export async function startDemoBackend(port: number, name: string): Promise<Server> {
  const server = createServer((req, res) => {
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
    })
    req.on('end', () => {
      const body = JSON.stringify({ backend: name, method: req.method, url: req.url, bodyBytes: size, headers: req.headers }, null, 2)
      res.writeHead(200, { 'content-type': 'application/json', 'x-demo-backend': name }).end(`${body}\n`)
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  return server
}

/** The running quick-start backends; `close()` stops both and drops their open connections. */
export interface DemoBackends {
  close(): Promise<void>
}

/** Starts the two quick-start backends, demo-1 on 127.0.0.1:9001 and demo-2 on 127.0.0.1:9002. */
export async function startDemoBackends(logger: Logger): Promise<DemoBackends> {
  const servers = [await startDemoBackend(9001, 'demo-1')]
  try {
    servers.push(await startDemoBackend(9002, 'demo-2'))
  } catch (err) {
    await closeServer(servers[0] as Server)
    throw err
  }
  logger.info('demo backends on 127.0.0.1:9001 and 127.0.0.1:9002')
  return { close: async () => void (await Promise.all(servers.map(closeServer))) }
}

/** Stops listening and ends kept-alive connections, which would otherwise hold the process open. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })
}

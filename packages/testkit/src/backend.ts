import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'

/** A real HTTP backend for tests, on 127.0.0.1 and a port of its own. */
export interface TestBackend {
  readonly name: string
  readonly port: number
  /** "127.0.0.1:PORT", as written in `addrs`. */
  readonly addr: string
  /** Requests received so far. */
  readonly hits: number
  /** The last request received (method, url, headers). */
  readonly last: { method: string; url: string; headers: IncomingMessage['headers']; body: Buffer } | undefined
  server: Server
  close(): Promise<void>
}

/** Handles a request; the default answers JSON { backend, method, url, headers }. */
export type BackendHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void

/**
 * Starts a backend that answers every request with JSON naming itself (or runs `handler`
 * after reading the body). `port` reuses a port (to bring a killed backend back).
 */
export async function startBackend(name: string, handler?: BackendHandler, port = 0): Promise<TestBackend> {
  let hits = 0
  let last: TestBackend['last']
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      hits++
      const body = Buffer.concat(chunks)
      last = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body }
      if (handler) return handler(req, res, body)
      const text = JSON.stringify({ backend: name, method: req.method, url: req.url, headers: req.headers })
      res.writeHead(200, { 'content-type': 'application/json', 'x-backend': name }).end(text)
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  const bound = (server.address() as { port: number }).port
  return {
    name,
    port: bound,
    addr: `127.0.0.1:${bound}`,
    get hits() {
      return hits
    },
    get last() {
      return last
    },
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

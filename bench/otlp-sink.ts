import { createServer } from 'node:http'

/** A running OTLP/HTTP sink: where the tracing target exports its spans. */
export interface OtlpSink {
  /** Base URL for `[tracing] endpoint`. */
  url: string
  /** Spans-export requests received so far. */
  readonly exports: number
}

/**
 * Accepts `POST /v1/traces` and drops the body: a collector that costs the gateway nothing beyond
 * the export itself. Runs in the orchestrator (on the load core) and never keeps it alive.
 */
export async function startOtlpSink(): Promise<OtlpSink> {
  let exports = 0
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') exports++
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  server.unref()
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    get exports() {
      return exports
    },
  }
}

// The fairest minimal baseline: node:http in, one undici Pool out, no routing, no plugins.
// Usage: node bench/minimal-proxy.ts <listen port> <upstream origin, e.g. http://127.0.0.1:8081>
import { createServer, type IncomingHttpHeaders } from 'node:http'
// undici is not a root dependency; this is the copy the data plane itself uses (pnpm links it there).
import { Pool } from '../packages/data-plane/node_modules/undici/index.js'

const [port, origin] = process.argv.slice(2)
if (!port || !origin) throw new Error('usage: minimal-proxy.ts <listen port> <upstream origin>')

const pool = new Pool(origin, { connections: 128, keepAliveTimeout: 60_000 })
// Connection-level headers belong to one hop and are never forwarded (RFC 9110 section 7.6.1).
const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'])

function endToEnd(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !hopByHop.has(name)) out[name] = value
  return out
}

const server = createServer(async (req, res) => {
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined
  try {
    await pool.stream(
      { method: req.method as 'GET', path: req.url ?? '/', headers: endToEnd(req.headers), body: hasBody ? req : null },
      ({ statusCode, headers }) => {
        res.writeHead(statusCode, endToEnd(headers))
        return res
      },
    )
  } catch {
    if (!res.headersSent) res.writeHead(502).end()
    else res.destroy()
  }
})
server.keepAliveTimeout = 65_000
server.listen(Number(port), '127.0.0.1')

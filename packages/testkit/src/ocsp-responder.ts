import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { TestCa } from './certs.ts'

const run = promisify(execFile)

/** An OCSP responder for a test CA on 127.0.0.1. */
export interface TestOcspResponder {
  /** http://127.0.0.1:PORT/ (what `issue({ ocspUrl })` should name). */
  readonly url: string
  readonly port: number
  /** OCSP requests answered so far. */
  readonly requests: number
  close(): Promise<void>
}

/**
 * Serves OCSP for `ca` over HTTP on 127.0.0.1: each POSTed request is answered by
 * `openssl ocsp -index -reqin -respout` against the CA's current index (so revoke() shows at
 * once), signed by the CA with nextUpdate `validDays` ahead. (`openssl ocsp -port` would bind
 * every interface; this keeps tests on loopback.) `port` reuses a port (a responder brought back).
 */
export async function startOcspResponder(ca: TestCa, options: { port?: number; validDays?: number } = {}): Promise<TestOcspResponder> {
  let requests = 0
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', async () => {
      const id = randomUUID()
      const reqin = join(ca.dir, `ocsp-${id}.req`)
      const respout = join(ca.dir, `ocsp-${id}.resp`)
      try {
        await writeFile(reqin, Buffer.concat(chunks))
        const args = ['ocsp', '-index', ca.indexPath, '-rsigner', ca.certPath, '-rkey', ca.keyPath, '-CA', ca.certPath]
        await run('openssl', [...args, '-reqin', reqin, '-respout', respout, '-ndays', String(options.validDays ?? 1)])
        const body = await readFile(respout)
        requests++
        res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(body)
      } catch (err) {
        res.writeHead(500).end(String(err))
      } finally {
        await rm(reqin, { force: true })
        await rm(respout, { force: true })
      }
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  const port = (server.address() as { port: number }).port
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    get requests() {
      return requests
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

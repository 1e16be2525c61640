import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { connect, createServer, type Server, type TLSSocket } from 'node:tls'
import { type Config, loadConfigTextOrThrow } from '@fleetgate/schema'
import pino, { type Logger } from 'pino'
import { verifiedClientSubject } from '../../src/tls/client-certificate.ts'
import type { ServerTls } from '../../src/tls/types.ts'

/** A pino logger that keeps its lines (parsed) for assertions. */
export function recordingLogger(): { logger: Logger; lines: { level: number; msg: string; [k: string]: unknown }[] } {
  const lines: { level: number; msg: string }[] = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line))
      done()
    },
  })
  return { logger: pino({ level: 'debug' }, stream), lines }
}

/** A config from TOML, with a plain location so servers validate. */
export function tomlConfig(toml: string): Config {
  return loadConfigTextOrThrow(toml)
}

/** A TLS server on 127.0.0.1 wired to a ServerTls the way the gateway's listener is; answers "ok" and the client subject. */
export async function serveTls(tls: ServerTls): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer(
    {
      ...(tls.defaultContextOptions?.() ?? {}),
      SNICallback: (name, cb) => {
        const ctx = tls.contextFor(name)
        if (ctx === undefined) cb(new Error(`no certificate for ${name}`))
        else cb(null, ctx)
      },
      requestCert: tls.requestClientCert,
      rejectUnauthorized: tls.clientAuth === 'required',
    },
    (socket) => {
      socket.on('error', () => {})
      // Greets, then echoes until the client ends: an open connection can be checked later.
      socket.write(`ok ${verifiedClientSubject(socket) ?? 'anonymous'}\n`)
      socket.pipe(socket)
    },
  )
  server.on('OCSPRequest', (cert: Buffer, issuer: Buffer, cb: (err: Error | null, resp?: Buffer) => void) => {
    cb(null, tls.ocspResponse?.(cert, issuer))
  })
  server.on('tlsClientError', () => {})
  tls.onReload?.(() => {
    const options = tls.defaultContextOptions?.()
    if (options !== undefined) server.setSecureContext(options)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

/** What a client saw in a handshake. */
export interface Handshake {
  cn: string | undefined
  protocol: string | null
  ocsp: Buffer | undefined
  body: string
}

/** Connects with `options`, reads the answer; rejects when the handshake fails. */
export async function handshake(
  port: number,
  options: {
    servername?: string
    ca?: string
    minVersion?: 'TLSv1.2' | 'TLSv1.3'
    maxVersion?: 'TLSv1.2' | 'TLSv1.3'
    cert?: string
    key?: string
    requestOCSP?: boolean
  } = {},
): Promise<Handshake> {
  const socket: TLSSocket = connect({ host: '127.0.0.1', port, rejectUnauthorized: options.ca !== undefined, ...options })
  let ocsp: Buffer | undefined
  // Node reports null when the client asked and the server stapled nothing.
  socket.on('OCSPResponse', (response: Buffer | null) => {
    ocsp = response ?? undefined
  })
  await once(socket, 'secureConnect')
  const cert = socket.getPeerCertificate()
  const protocol = socket.getProtocol()
  socket.end()
  let body = ''
  for await (const chunk of socket) body += chunk.toString()
  const cn = cert.subject?.CN
  return { cn: Array.isArray(cn) ? cn[0] : cn, protocol, ocsp, body: body.trim() }
}

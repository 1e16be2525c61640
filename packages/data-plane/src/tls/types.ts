import type { SecureContext, SecureContextOptions } from 'node:tls'

/**
 * TLS of one `[servers.NAME]`, as its listener uses it. The listener reads it on every
 * handshake (SNICallback), so a new snapshot or a reloaded certificate file takes effect for
 * new connections without touching open ones.
 */
export interface ServerTls {
  /**
   * The context for a handshake's SNI name: exact name, then wildcard, then the default
   * certificate; undefined fails the handshake (no certificate for that name).
   * `servername` is undefined when the client sent no SNI.
   */
  contextFor(servername: string | undefined): SecureContext | undefined
  /** Ask for (and verify against the configured CA) a client certificate; a server-level setting. */
  readonly requestClientCert: boolean
  /** Stapled OCSP response for a certificate, when OCSP stapling has one (server 'OCSPRequest'). */
  ocspResponse?(certificate: Buffer, issuer: Buffer): Buffer | undefined
  /**
   * `tls_client_auth`: with "required" the listener sets `rejectUnauthorized: true` (no verified
   * client certificate, no handshake); with "optional" `rejectUnauthorized: false`, and a request
   * sees a verified subject only when `socket.authorized` (see client-certificate.ts).
   */
  readonly clientAuth?: 'off' | 'optional' | 'required'
  /**
   * Options of the default context (what contextFor(undefined) serves), for
   * `tls.createServer(options)` and `server.setSecureContext(options)`: Node's server uses them
   * for clients that send no SNI, since SNICallback only runs when a client sends a name.
   * Undefined when there is no default certificate.
   */
  defaultContextOptions?(): SecureContextOptions | undefined
  /**
   * The server's versions, ciphers and client CA in a context without a certificate: the no-SNI
   * default of a server with no default certificate. OpenSSL keeps the protocol versions and
   * ciphers of the context a handshake starts with, whatever context SNI picks later, so an
   * empty context there would let every handshake ignore tls_min_version and the rest.
   */
  bareContext?(): SecureContext
  /**
   * Calls `listener` after a certificate of this server was reloaded from disk (contextFor
   * already returns the new context); the listener re-applies defaultContextOptions() with
   * server.setSecureContext(). Returns a function that unsubscribes.
   */
  onReload?(listener: () => void): () => void
}

/**
 * Every certificate of a config, compiled once per snapshot (PEM parsed, contexts built) and
 * shared by the servers that use them. Reused by the next snapshot when unchanged.
 */
export interface CertificateStore {
  /** Hash of the certificate config it was built from (reuse key across snapshots). */
  readonly hash: string
  /** The TLS of a server: undefined for a plain listener (no tls_cert, certificates or global_certificates). */
  forServer(serverName: string): ServerTls | undefined
  /** Starts file watching, OCSP refresh and expiry checks; called once the snapshot goes live. */
  start(): void
  /** Stops timers and watchers; called when the snapshot that owns it retires and no newer one reuses it. */
  close(): void
}

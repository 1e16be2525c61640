import { get as httpGet } from 'node:http'
import { type Agent, get as httpsGet } from 'node:https'
import type { Logger } from 'pino'
import { type AcmeClientModule, loadAcmeClient } from './acme-client-loader.ts'

/** Where an order's HTTP-01 key authorizations go so that every node answering for the domain can serve them. */
export interface ChallengeSession {
  /** Makes `keyAuthorization` the answer to `GET /.well-known/acme-challenge/<token>`; resolves once it is served. */
  publish(token: string, keyAuthorization: string): Promise<void>
  /** Stops answering `token`. */
  withdraw(token: string): Promise<void>
  /** Ends the session (withdraws whatever is left). */
  close(): Promise<void>
}

/** A certificate issued by an ACME order: the chain and its private key, PEM. */
export interface IssuedCertificate {
  cert: string
  key: string
}

/** What one order needs. */
export interface OrderRequest {
  directoryUrl: string
  /** The account's private key, PEM: the same key is the same account. */
  accountKey: string
  email?: string
  /** Names for the certificate; the first is the common name. */
  domains: readonly string[]
  challenges: ChallengeSession
  logger: Logger
  /** PEM file of an extra CA trusted for the directory's HTTPS. */
  caFile?: string
}

/**
 * Runs one RFC 8555 order with acme-client: registers (or finds) the account, answers HTTP-01 for
 * every domain through `challenges`, finalizes with a CSR for a fresh P-256 key and downloads the
 * chain. acme-client's own reachability pre-check is skipped: it would need the public DNS view that
 * the CA has, not this node's. Throws with the CA's reason when the order fails.
 */
export async function orderCertificate(request: OrderRequest): Promise<IssuedCertificate> {
  const acme = await loadAcmeClient(request.logger, request.caFile)
  await checkDirectory(request.directoryUrl, acme.axios.defaults.httpsAgent as Agent | undefined)
  const client = new acme.Client({
    directoryUrl: request.directoryUrl,
    accountKey: request.accountKey,
    backoffMin: 500,
    backoffMax: 10_000,
  })
  await findOrCreateAccount(client, request.email)
  const key = await acme.crypto.createPrivateEcdsaKey('P-256')
  const [, csr] = await acme.crypto.createCsr({ commonName: request.domains[0], altNames: [...request.domains] }, key)
  const cert = await client.auto({
    csr,
    challengePriority: ['http-01'],
    skipChallengeVerification: true,
    challengeCreateFn: async (authz, challenge, keyAuthorization) => {
      if (challenge.type !== 'http-01') throw new Error(`${authz.identifier.value}: the CA offers no http-01 challenge`)
      await request.challenges.publish(challenge.token, keyAuthorization)
    },
    challengeRemoveFn: async (_authz, challenge) => {
      if (challenge.type === 'http-01') await request.challenges.withdraw(challenge.token)
    },
  })
  return { cert, key: key.toString() }
}

/**
 * Looks the account up by its key first (a POST-as-GET when it exists): registering again with an
 * existing key makes acme-client send an update that some CAs refuse when there is no contact to change.
 * Creating it agrees to the CA's terms of service: configuring `acme` is that agreement.
 */
async function findOrCreateAccount(client: InstanceType<AcmeClientModule['Client']>, email: string | undefined): Promise<void> {
  try {
    await client.createAccount({ onlyReturnExisting: true })
  } catch (err) {
    // Only "no such account" leads to registering; a CA that cannot be reached is that error.
    if ((err as NodeJS.ErrnoException).code !== undefined) throw err
    await client.createAccount({ termsOfServiceAgreed: true, ...(email ? { contact: [`mailto:${email}`] } : {}) })
  }
}

/** How long the directory may take to answer the check before an order. */
const DIRECTORY_TIMEOUT_MS = 10_000

/**
 * GETs the ACME directory once before an order, so that a CA that cannot be reached fails the
 * order at once with the network's reason. acme-client retries such errors for over a minute
 * (5, 10, ... 25 s) and then reports a TypeError of its own, which says nothing of the cause.
 */
function checkDirectory(url: string, agent: Agent | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (reason: string) => reject(new Error(`ACME directory ${url}: ${reason}`))
    const onResponse = (res: import('node:http').IncomingMessage) => {
      res.resume()
      const status = res.statusCode ?? 0
      if (status >= 200 && status < 300) resolve()
      else fail(`answered HTTP ${status}`)
    }
    let req: import('node:http').ClientRequest
    try {
      req = url.startsWith('https:')
        ? httpsGet(url, { agent, timeout: DIRECTORY_TIMEOUT_MS }, onResponse)
        : httpGet(url, { timeout: DIRECTORY_TIMEOUT_MS }, onResponse)
    } catch (err) {
      fail((err as Error).message)
      return
    }
    req.on('timeout', () =>
      req.destroy(Object.assign(new Error(`no answer within ${DIRECTORY_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' })),
    )
    req.on('error', (err: NodeJS.ErrnoException) =>
      fail(err.code === 'ETIMEDOUT' ? err.message : `unreachable (${err.code ?? err.message})`),
    )
  })
}

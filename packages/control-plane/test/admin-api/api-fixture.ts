import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { createLocalStore, type Store } from '@fleetgate/store'
import pino from 'pino'
import { type AuthFailureLimits, type ControlPlane, startControlPlane } from '../../src/index.ts'

/** Tokens every fixture accepts. */
export const ADMIN = 'admin-token-0123456789abcdef'
export const VIEWER = 'viewer-token-0123456789abcdef'

/** A small valid config: one upstream, one location, one server. */
export const BASE_TOML = `[basic]
name = "test"

[upstreams.api]
addrs = ["127.0.0.1:8001"]

[locations.api]
upstream = "api"
path = "/api"

[servers.main]
addr = "127.0.0.1:8080"
locations = ["api"]
`

/** A control plane on a local store in a temp folder, with helpers to call its API. */
export interface TestApi {
  readonly url: string
  readonly store: Store
  readonly controlPlane: ControlPlane
  /** Everything logged so far (JSON lines). */
  logs(): string
  call(method: string, path: string, opts?: CallOptions): Promise<Response>
  /** Calls and parses the JSON answer, asserting nothing about the status. */
  // biome-ignore lint/suspicious/noExplicitAny: tests check answers field by field with assertions
  json<T = any>(method: string, path: string, opts?: CallOptions): Promise<{ status: number; headers: Headers; body: T }>
  close(): Promise<void>
}

/** A request's token (default the admin one; null for none), body and extra headers. */
export interface CallOptions {
  token?: string | null
  body?: unknown
  /** Content type of a string body; objects are sent as JSON. */
  type?: string
  headers?: Record<string, string>
}

/** Starts the real service and admin API on a fresh local store, listening on 127.0.0.1:0. */
export async function startTestApi(opts: { authFailureLimits?: AuthFailureLimits } = {}): Promise<TestApi> {
  const dir = await mkdtemp(join(tmpdir(), 'fleetgate-admin-api-'))
  const store = await createLocalStore({ dir })
  let logs = ''
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs += chunk.toString()
      done()
    },
  })
  const logger = pino({ level: 'info' }, sink)
  const controlPlane = await startControlPlane({
    store,
    listen: '127.0.0.1:0',
    tokens: { admin: [ADMIN], readonly: [VIEWER] },
    logger,
    ...(opts.authFailureLimits ? { authFailureLimits: opts.authFailureLimits } : {}),
  })
  const call = (method: string, path: string, o: CallOptions = {}) => {
    const headers: Record<string, string> = { ...o.headers }
    const token = o.token === undefined ? ADMIN : o.token
    if (token !== null) headers.authorization = `Bearer ${token}`
    let body: string | undefined
    if (typeof o.body === 'string') {
      body = o.body
      headers['content-type'] = o.type ?? 'application/toml'
    } else if (o.body !== undefined) {
      body = JSON.stringify(o.body)
      headers['content-type'] = 'application/json'
    }
    return fetch(`${controlPlane.url}${path}`, { method, headers, body, signal: AbortSignal.timeout(20_000) })
  }
  return {
    url: controlPlane.url,
    store,
    controlPlane,
    logs: () => logs,
    call,
    async json(method, path, o) {
      const res = await call(method, path, o)
      const text = await res.text()
      return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) }
    },
    async close() {
      await controlPlane.close()
      await store.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

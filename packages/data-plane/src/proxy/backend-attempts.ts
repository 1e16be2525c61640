import type { ErrorCode } from '../errors.ts'
import type { Backend, BalanceRequest, Upstream } from '../upstream/types.ts'

/**
 * The backends one request tries, for the exchanges that may retry elsewhere (forward.ts and
 * websocket.ts): each attempt starts on an untried backend the balancer picks, ends exactly once
 * (the backend's in-flight count and circuit breaker see it), and another attempt may follow
 * while `max_retries` and the upstream's backends allow.
 */
export class BackendAttempts {
  readonly #upstream: Upstream
  readonly #balance: BalanceRequest
  readonly #tried = new Set<Backend>()
  #current: Backend | undefined
  #running = false

  constructor(upstream: Upstream, balance: BalanceRequest) {
    this.#upstream = upstream
    this.#balance = balance
  }

  /** Attempts started so far. */
  get count(): number {
    return this.#tried.size
  }

  /** The backend of the latest attempt. */
  get current(): Backend | undefined {
    return this.#current
  }

  /** Starts an attempt on a backend not tried yet; undefined when none is available (see noBackendCode). */
  start(): Backend | undefined {
    const backend = this.#upstream.pick(this.#balance, this.#tried)
    if (backend === undefined) return undefined
    this.#current = backend
    this.#tried.add(backend)
    this.#running = true
    backend.onRequestStart()
    return backend
  }

  /** Ends the running attempt, `failed` when the backend is to blame (a transport failure); later calls do nothing. */
  end(failed: boolean): void {
    if (!this.#running) return
    this.#running = false
    this.#current?.onRequestEnd(failed)
  }

  /** The error when start() found no backend: none healthy at all, or none left after failed attempts. */
  noBackendCode(): ErrorCode {
    return this.#tried.size === 0 ? 'NO_HEALTHY_BACKEND' : 'UPSTREAM_CONNECT'
  }

  /** True while max_retries and the upstream's untried backends allow another attempt. */
  mayRetry(): boolean {
    return this.#tried.size <= this.#upstream.config.max_retries && this.#tried.size < this.#upstream.backends.length
  }
}

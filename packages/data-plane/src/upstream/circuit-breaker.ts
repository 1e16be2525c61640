/** Where a circuit breaker stands. */
export type CircuitState = 'closed' | 'open' | 'half_open'

/** Options of a breaker, taken from `circuit_break_failures` and `circuit_break_open_duration`. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit; 0 disables the breaker. */
  failures: number
  /** How long the circuit stays open before a half-open trial, in ms. */
  openDurationMs: number
  /** Told about every transition (for logs); `now` is the time it was noticed. */
  onStateChange?: (state: CircuitState, now: number) => void
}

/**
 * Passive ejection of one backend. Every method takes `now` so the state machine runs on
 * any clock (tests use a fake one).
 *
 * closed -> open after `failures` consecutive failures; open -> half_open once the open
 * period has passed; in half_open exactly one trial request may be in flight: its success
 * closes the circuit, its failure opens it for another period.
 */
export interface CircuitBreaker {
  state(now: number): CircuitState
  /**
   * True when a request may go to the backend now. In half_open it stays true until the
   * trial request starts (onRequestStart), so a backend that a balancer looked at but did
   * not pick is never left waiting for a trial that will not come.
   */
  isAvailable(now: number): boolean
  /** A request to the backend starts; in half_open this one is the trial. */
  onRequestStart(now: number): void
  /** A request ends; `failed` counts towards opening (or decides the trial). */
  onRequestEnd(failed: boolean, now: number): void
}

/** A breaker in the closed state. */
export function createCircuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  const { failures, openDurationMs, onStateChange } = options
  let current: CircuitState = 'closed'
  let consecutiveFailures = 0
  let openUntil = 0
  let trialInFlight = false

  const moveTo = (next: CircuitState, now: number) => {
    current = next
    if (next === 'open') openUntil = now + openDurationMs
    consecutiveFailures = 0
    trialInFlight = false
    onStateChange?.(next, now)
  }
  const state = (now: number): CircuitState => {
    if (current === 'open' && now >= openUntil) moveTo('half_open', now)
    return current
  }

  return {
    state,
    isAvailable(now) {
      const s = state(now)
      return s === 'closed' || (s === 'half_open' && !trialInFlight)
    },
    onRequestStart(now) {
      if (state(now) === 'half_open') trialInFlight = true
    },
    onRequestEnd(failed, now) {
      if (failures === 0) return
      const s = state(now)
      if (s === 'half_open') {
        // Only the trial's outcome counts here; without a trial in flight this is a late
        // answer from before the circuit opened and says nothing about the backend now.
        if (trialInFlight) moveTo(failed ? 'open' : 'closed', now)
        return
      }
      if (s === 'open') return
      if (!failed) {
        consecutiveFailures = 0
        return
      }
      consecutiveFailures += 1
      if (consecutiveFailures >= failures) moveTo('open', now)
    },
  }
}

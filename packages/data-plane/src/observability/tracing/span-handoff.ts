import { Worker } from 'node:worker_threads'
import type { Logger } from 'pino'
import type { FromSpanWorker, SpanTarget, SpanValue, SpanWorkerData, ToSpanWorker } from './span-record.ts'

/** Finished traces' spans go to the export thread in batches: at most this long after they end... */
const HANDOFF_DELAY_MS = 200
/** ...or as soon as this many traces are waiting (a server span and a client span each, mostly). */
const HANDOFF_TRACES = 128
/**
 * Batches handed over that the export thread has not taken in yet: past this many (some 16k
 * spans), a batch is dropped instead of queued. The thread falls behind only when it gets too
 * little CPU for the spans (a saturated core, a high sampling ratio); unbounded, its queue would
 * grow the process's memory for as long as that lasts.
 */
const MAX_WAITING_BATCHES = 64
/** How long a shutdown waits for the export thread's last export. */
const SHUTDOWN_TIMEOUT_MS = 10_000
/** The same warning of the export thread (a collector that is down) is logged at most this often. */
const WARN_EVERY_MS = 60_000

/** A sampled request's finished trace, whose spans are written out when the handoff flushes. */
export interface FinishedTrace {
  /** Appends the trace's spans to `batch` in span-record.ts's layout; returns how many. */
  writeSpans(batch: SpanValue[]): number
}

/**
 * The main thread's end of the export thread: finished traces wait in a list, and every
 * HANDOFF_DELAY_MS (or when HANDOFF_TRACES are waiting) their spans are written into one batch
 * that is posted to the thread. The thread starts with the first finished trace, so tracing that
 * samples nothing costs no thread and no SDK. If the thread dies, tracing logs it once and drops
 * spans from then on; the proxy goes on. A thread that falls behind (MAX_WAITING_BATCHES) has
 * spans dropped, not queued without bound.
 */
export class SpanHandoff {
  readonly #data: SpanWorkerData
  readonly #logger: Logger
  readonly #maxWaiting: number
  /** How many batches the thread has taken in (it counts them; see SpanWorkerData.taken). */
  readonly #taken: Int32Array
  /** How many batches were posted to the thread. */
  #posted = 0
  /** Spans dropped because the thread was behind, in all. */
  #dropped = 0
  #worker: Worker | undefined
  /** Finished traces whose spans have not been written out yet. */
  #waiting: FinishedTrace[] = []
  #timer: NodeJS.Timeout | undefined
  #dead = false
  #shut: Promise<void> | undefined
  /** Warnings by text: when each was last logged, and how many were held back since. */
  readonly #warned = new Map<string, { at: number; held: number }>()

  /** `maxWaitingBatches`: see MAX_WAITING_BATCHES (a test sets a smaller one). */
  constructor(target: SpanTarget, logger: Logger, maxWaitingBatches = MAX_WAITING_BATCHES) {
    const taken = new SharedArrayBuffer(4)
    this.#data = { ...target, taken }
    this.#taken = new Int32Array(taken)
    this.#logger = logger
    this.#maxWaiting = maxWaitingBatches
  }

  /** A sampled request's trace ended: its spans go with the next flush. */
  finished(trace: FinishedTrace): void {
    if (this.#dead || this.#shut !== undefined) return
    if (this.#waiting.push(trace) >= HANDOFF_TRACES) this.#flush()
    else if (this.#timer === undefined) this.#timer = setTimeout(() => this.#flush(), HANDOFF_DELAY_MS).unref()
  }

  #start(): Worker {
    const logger = this.#logger
    const worker = new Worker(new URL('./span-worker.ts', import.meta.url), { workerData: this.#data })
    worker.unref()
    worker.on('message', (message: FromSpanWorker) => {
      if (message.type === 'warn') this.#warn(message.message, message.detail)
    })
    worker.on('error', (err) => {
      this.#dead = true
      logger.error({ err }, 'tracing: the span export thread failed; spans are dropped from now on')
    })
    worker.on('exit', (code) => {
      if (this.#dead || this.#shut !== undefined) return
      this.#dead = true
      logger.error({ code }, 'tracing: the span export thread exited; spans are dropped from now on')
    })
    return worker
  }

  /** Logs an export thread warning, the same one at most once a WARN_EVERY_MS, with how many were held back. */
  #warn(message: string, detail: string): void {
    const now = performance.now()
    const seen = this.#warned.get(message)
    if (seen !== undefined && now - seen.at < WARN_EVERY_MS) {
      seen.held++
      return
    }
    if (this.#warned.size > 100) this.#warned.clear()
    this.#logger.warn({ detail: detail || undefined, repeated: seen?.held || undefined }, `tracing: ${message}`)
    this.#warned.set(message, { at: now, held: 0 })
  }

  #flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    const traces = this.#waiting
    if (traces.length === 0) return
    this.#waiting = []
    if (this.#dead) return
    const spans: SpanValue[] = []
    let count = 0
    for (let i = 0; i < traces.length; i++) count += (traces[i] as FinishedTrace).writeSpans(spans)
    if (this.#posted - Atomics.load(this.#taken, 0) >= this.#maxWaiting) {
      this.#dropped += count
      this.#warn('the span export thread is behind; spans were dropped', `${this.#dropped} spans dropped since tracing started`)
      return
    }
    this.#posted++
    this.#post({ type: 'spans', spans })
  }

  #post(message: ToSpanWorker): void {
    this.#worker ??= this.#start()
    this.#worker.postMessage(message)
  }

  /** Hands over what is waiting, lets the thread export it, and stops the thread. */
  shutdown(): Promise<void> {
    this.#shut ??= this.#shutdown()
    return this.#shut
  }

  async #shutdown(): Promise<void> {
    this.#flush()
    // The warning while dropping is logged once a minute at most: the total comes last.
    if (this.#dropped > 0)
      this.#logger.warn({ dropped: this.#dropped }, 'tracing: spans dropped while the export thread was behind, in all')
    const worker = this.#worker
    if (worker === undefined) return
    if (!this.#dead) {
      worker.ref()
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer)
          worker.off('message', onMessage)
          worker.off('exit', done)
          resolve()
        }
        const onMessage = (message: FromSpanWorker) => {
          if (message.type === 'shut') done()
        }
        const timer = setTimeout(() => {
          this.#logger.warn('tracing: the span export thread did not finish its last export in time')
          done()
        }, SHUTDOWN_TIMEOUT_MS)
        worker.on('message', onMessage)
        worker.on('exit', done)
        this.#post({ type: 'shutdown' })
      })
    }
    await worker.terminate()
  }
}

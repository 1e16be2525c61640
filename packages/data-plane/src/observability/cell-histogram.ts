import { Histogram, type LabelValues } from 'prom-client'

/** Bucket counts of one label set, updated on the hot path with plain array writes. */
export interface HistogramCell {
  readonly labels: LabelValues<string>
  /** Per-bucket (non-cumulative) counts; the last slot is +Inf. */
  readonly counts: Float64Array
  sum: number
  count: number
}

type ExportedValue = { value: number; labels: LabelValues<string>; metricName: string }

/**
 * A prom-client Histogram whose label sets are cells created once (per server, location and
 * upstream) and observed without any label hashing: prom-client hashes the label object on
 * every observe(), even on a child from labels(). The registry reads it like any histogram.
 */
export class CellHistogram extends Histogram<string> {
  readonly #name: string
  readonly #help: string
  readonly #bounds: readonly number[]
  readonly #cells: HistogramCell[] = []

  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]) {
    super({ name, help, labelNames: [...labelNames], buckets: [...buckets], registers: [] })
    this.#name = name
    this.#help = help
    this.#bounds = buckets
  }

  /** A new cell for `labels`, exported from now on (even while empty, so dashboards see zeros). */
  cell(labels: LabelValues<string>): HistogramCell {
    const cell: HistogramCell = { labels, counts: new Float64Array(this.#bounds.length + 1), sum: 0, count: 0 }
    this.#cells.push(cell)
    return cell
  }

  /** Records one value in seconds; a linear scan beats a binary search for ~15 buckets. */
  observeCell(cell: HistogramCell, seconds: number): void {
    const bounds = this.#bounds
    let i = 0
    while (i < bounds.length && seconds > (bounds[i] as number)) i++
    cell.counts[i] = (cell.counts[i] as number) + 1
    cell.sum += seconds
    cell.count++
  }

  override async get() {
    return { name: this.#name, help: this.#help, type: 'histogram', aggregator: 'sum', values: this.#export() } as never
  }

  /** What the registry calls when it renders the text format. */
  async getForPromString() {
    return this.get()
  }

  #export(): ExportedValue[] {
    const values: ExportedValue[] = []
    const bucket = `${this.#name}_bucket`
    for (const cell of this.#cells) {
      let acc = 0
      for (let i = 0; i < this.#bounds.length; i++) {
        acc += cell.counts[i] as number
        values.push({ value: acc, labels: { ...cell.labels, le: this.#bounds[i] as number }, metricName: bucket })
      }
      values.push({ value: cell.count, labels: { ...cell.labels, le: '+Inf' }, metricName: bucket })
      values.push({ value: cell.sum, labels: cell.labels, metricName: `${this.#name}_sum` })
      values.push({ value: cell.count, labels: cell.labels, metricName: `${this.#name}_count` })
    }
    return values
  }
}

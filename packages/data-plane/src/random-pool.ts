import { randomFillSync } from 'node:crypto'

/**
 * Random bytes for ids made per request (request ids, unsampled traceparents), drawn from the OS
 * `draws` ids at a time: one call per refill instead of one per id. The call itself is what
 * costs: in the gateway under load, a randomFillSync of 4 KiB took 38–46 µs and one of 64 KiB
 * 80–95 µs (1.8 µs for 6 KiB in a loop of its own), hence the default of 4096 draws: 64 KiB for
 * the request id plugin's 16 bytes. Keep a refill at 64 KiB or more.
 */
export class RandomPool {
  readonly bytes: Buffer
  readonly #idBytes: number
  readonly #draws: number
  #next: number
  constructor(idBytes: number, draws = 4096) {
    this.bytes = Buffer.alloc(idBytes * draws)
    this.#idBytes = idBytes
    this.#draws = draws
    this.#next = draws
  }

  /** Offset in `bytes` of `idBytes` fresh random bytes, the caller's until its next take(). */
  take(): number {
    if (this.#next === this.#draws) {
      randomFillSync(this.bytes)
      this.#next = 0
    }
    return this.#next++ * this.#idBytes
  }
}

const HEX = Buffer.from('0123456789abcdef', 'latin1')

/** Writes `count` bytes of `from` (at `at`) as lower-case hex ASCII into `to` at `o`; returns the offset after. */
export function writeHex(from: Buffer, at: number, count: number, to: Buffer, o: number): number {
  for (let i = at; i < at + count; i++) {
    const byte = from[i] as number
    to[o++] = HEX[byte >> 4] as number
    to[o++] = HEX[byte & 0x0f] as number
  }
  return o
}

import { Transform, type TransformCallback } from 'node:stream'

/**
 * Passes a response body through unchanged while keeping a copy, up to `maxBytes`: past it
 * the copy is dropped and the body streams on uncached. `onBody` gets the whole copy only when
 * the body ended normally (a failed or cut response is never stored).
 */
export class CacheTee extends Transform {
  readonly #maxBytes: number
  readonly #onBody: (body: Buffer) => void
  #chunks: Buffer[] | undefined = []
  #bytes = 0

  constructor(maxBytes: number, onBody: (body: Buffer) => void) {
    super()
    this.#maxBytes = maxBytes
    this.#onBody = onBody
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#chunks !== undefined) {
      this.#bytes += chunk.length
      if (this.#bytes > this.#maxBytes) this.#chunks = undefined
      else this.#chunks.push(chunk)
    }
    callback(null, chunk)
  }

  override _flush(callback: TransformCallback): void {
    if (this.#chunks !== undefined) this.#onBody(Buffer.concat(this.#chunks, this.#bytes))
    callback()
  }
}

import { Transform, type TransformCallback } from 'node:stream'

/**
 * A response_body transform that replaces the body it is given with a stored one: what is
 * written to it (a 304's empty body, a failed upstream's error page) is dropped, and `body`
 * comes out when the input ends. The cache answers revalidated and stale responses with it.
 */
export class StoredBody extends Transform {
  readonly #body: Buffer

  constructor(body: Buffer) {
    super()
    this.#body = body
  }

  override _transform(_chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    callback()
  }

  override _flush(callback: TransformCallback): void {
    callback(null, this.#body.length === 0 ? undefined : this.#body)
  }
}

import { Transform, type TransformCallback } from 'node:stream'
import { GatewayError } from '../errors.ts'

/** Counts body bytes as they stream and fails with BODY_TOO_LARGE past `limit`, before buffering anything. */
export class BodyLimit extends Transform {
  #seen = 0
  readonly #limit: number
  constructor(limit: number) {
    super()
    this.#limit = limit
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#seen += chunk.length
    if (this.#seen > this.#limit) callback(new GatewayError('BODY_TOO_LARGE'))
    else callback(null, chunk)
  }
}

/** Reads a whole request body into one Buffer, failing with BODY_TOO_LARGE past `limit` bytes. */
export async function readBody(stream: NodeJS.ReadableStream, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of stream) {
    size += (chunk as Buffer).length
    if (size > limit) throw new GatewayError('BODY_TOO_LARGE')
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks, size)
}

import { createHash } from 'node:crypto'
import { setImmediate as yieldToRequests } from 'node:timers/promises'
import { promisify } from 'node:util'
import { gunzip } from 'node:zlib'
import { type Config, type ConfigError, validateConfigCooperatively } from '@fleetgate/schema'

const gunzipAsync = promisify(gunzip)

/** A decoded version: its canonical JSON and validated config, or why it is unusable. */
export type DecodedVersion =
  | { ok: true; json: string; config: Config }
  | { ok: false; stage: 'content'; message: string }
  | { ok: false; stage: 'validation'; errors: ConfigError[] }

/**
 * Unzips (on libuv's thread pool), verifies the sha256, parses and validates blob chunks. The
 * steps are separated by yields to the event loop: with thousands of locations each takes tens
 * of milliseconds, and requests in flight get served between them instead of waiting for all.
 */
export async function decodeVersion(chunks: readonly Buffer[], sha256: string): Promise<DecodedVersion> {
  let json: string
  let raw: unknown
  try {
    json = (await gunzipAsync(Buffer.concat(chunks))).toString('utf8')
    const actual = createHash('sha256').update(json).digest('hex')
    if (actual !== sha256) return { ok: false, stage: 'content', message: `config blob hash mismatch: expected ${sha256}, got ${actual}` }
    await yieldToRequests()
    raw = JSON.parse(json)
  } catch (err) {
    return { ok: false, stage: 'content', message: (err as Error).message }
  }
  await yieldToRequests()
  const result = await validateConfigCooperatively(raw, { inPlace: true })
  return result.ok ? { ok: true, json, config: result.config } : { ok: false, stage: 'validation', errors: result.errors }
}

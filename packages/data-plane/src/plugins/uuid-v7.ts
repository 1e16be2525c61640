import { RandomPool, writeHex } from '../random-pool.ts'

const random = new RandomPool(16)

/** The text form is written here as ASCII, then read out as one string: no intermediate strings. */
const text = Buffer.from('00000000-0000-0000-0000-000000000000', 'latin1')

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random bits, so ids sort
 * by time. Random bytes come from a pool, 64 KiB at a time.
 */
export function uuidV7(now: number = Date.now()): string {
  const bytes = random.bytes
  const at = random.take()
  bytes.writeUIntBE(now, at, 6)
  bytes[at + 6] = ((bytes[at + 6] as number) & 0x0f) | 0x70
  bytes[at + 8] = ((bytes[at + 8] as number) & 0x3f) | 0x80
  // xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx: groups of 4, 2, 2, 2 and 6 bytes.
  writeHex(bytes, at, 4, text, 0)
  writeHex(bytes, at + 4, 2, text, 9)
  writeHex(bytes, at + 6, 2, text, 14)
  writeHex(bytes, at + 8, 2, text, 19)
  writeHex(bytes, at + 10, 6, text, 24)
  return text.toString('latin1')
}

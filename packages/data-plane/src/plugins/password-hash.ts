import { createHash, scrypt, timingSafeEqual } from 'node:crypto'

/** A stored password hash, parsed once: verify() resolves true when `password` matches. */
export interface PasswordHash {
  verify(password: string): Promise<boolean>
}

/**
 * Parses "scrypt$N$r$p$SALT_B64$KEY_B64" or "sha256$HEX". scrypt runs on libuv's thread
 * pool (never blocking the event loop); both compare in constant time.
 */
export function parsePasswordHash(text: string): PasswordHash {
  const parts = text.split('$')
  if (parts[0] === 'sha256' && parts.length === 2) {
    const expected = Buffer.from(parts[1] as string, 'hex')
    return {
      verify: async (password) => timingSafeEqual(createHash('sha256').update(password).digest(), expected),
    }
  }
  if (parts[0] === 'scrypt' && parts.length === 6) {
    const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number]
    const salt = Buffer.from(parts[4] as string, 'base64')
    const expected = Buffer.from(parts[5] as string, 'base64')
    if (expected.length < 16 || salt.length < 8) throw new Error('scrypt salt must be at least 8 bytes and key at least 16')
    const options = { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }
    return {
      verify: (password) =>
        new Promise((resolve, reject) => {
          scrypt(password, salt, expected.length, options, (err, key) => (err ? reject(err) : resolve(timingSafeEqual(key, expected))))
        }),
    }
  }
  throw new Error('expected "scrypt$N$r$p$SALT_B64$KEY_B64" or "sha256$HEX"')
}

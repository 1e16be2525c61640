import { isIP } from 'node:net'

/**
 * The host of an authority "host[:port]" as written (an "[IPv6]" literal keeps its brackets),
 * the port 0 to 5 digits. A text with two colons or more outside brackets is a bare IPv6
 * address (as X-Forwarded-For entries may be), with no port. Undefined when the port or the
 * brackets are malformed. What the host itself may be is the caller's to check.
 */
export function authorityHost(text: string): string | undefined {
  if (text.charCodeAt(0) === 91 /* [ */) {
    const close = text.indexOf(']')
    if (close < 0) return undefined
    if (close + 1 === text.length) return text
    return text.charCodeAt(close + 1) === 58 /* : */ && isPort(text, close + 2) ? text.slice(0, close + 1) : undefined
  }
  const colon = text.indexOf(':')
  if (colon < 0 || text.indexOf(':', colon + 1) >= 0) return text
  return isPort(text, colon + 1) ? text.slice(0, colon) : undefined
}

/** True when text[from..] is 0 to 5 digits (RFC 3986 allows an empty port). */
function isPort(text: string, from: number): boolean {
  if (text.length - from > 5) return false
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 48 || c > 57) return false
  }
  return true
}

/**
 * Bytes of a reg-name (RFC 3986 section 3.2.2: unreserved, sub-delims, and "%" of a
 * pct-encoded octet), by char code; "/", "?", "#", "@", "\\" and spaces are not among them.
 */
const REG_NAME = new Uint8Array(128)
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=%") REG_NAME[c.charCodeAt(0)] = 1

/**
 * True when `host` is a Host value of the form RFC 9112 section 3.2 allows: uri-host[":" port],
 * the host a reg-name, an IPv4 address or an "[IPv6]" literal, the port digits. Anything else
 * ("evil.com/@x", "a\\b", "a?b", "") must not be copied into a URL such as a redirect's Location.
 * Called only by code about to build a URL from the Host; the proxy path does not pay for it.
 */
export function isValidHost(text: string): boolean {
  const host = authorityHost(text)
  if (host === undefined || host === '') return false
  if (host.charCodeAt(0) === 91 /* [ */) return isIP(host.slice(1, -1)) === 6
  const end = host.length
  for (let i = 0; i < end; i++) {
    const c = host.charCodeAt(i)
    if (c >= 128 || REG_NAME[c] === 0) return false
    // pct-encoded: "%" and two hex digits.
    if (c === 37 && !(isHex(host.charCodeAt(i + 1)) && isHex(host.charCodeAt(i + 2)) && i + 2 < end)) return false
  }
  return true
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)
}

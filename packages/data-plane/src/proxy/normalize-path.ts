// Path normalization (RFC 3986 6.2.2), so that the path a location is matched against, the
// path its plugins see and the path sent upstream are one and the same: "/%69pr", "//ipr" and
// "/x/../ipr" are all "/ipr", and cannot reach a catch-all location while a backend (which
// decodes and merges them) serves them as "/ipr".

/**
 * The normalized form of a path starting with "/":
 * - percent-encoded unreserved characters (ALPHA, DIGIT, "-", ".", "_", "~") are decoded,
 *   any other escape is kept with upper-case hex ("%c3%a9" -> "%C3%A9"); "%25" is never
 *   decoded, so nothing is decoded twice; a malformed escape ("%zz") is left as it is;
 * - runs of "/" become one "/" (nginx merge_slashes, Envoy merge_slashes);
 * - "." and ".." segments are removed (RFC 3986 5.2.4), after decoding, so "%2e%2e" counts.
 * An encoded "/" or "\" stays encoded: it is data here, never a separator (requests holding
 * one are refused before routing, see normalizeRequestPath). Returns the input itself (one
 * scan, no allocation) when it is already normal: no "%", "\", "//", "/./" or "/../".
 */
export function normalizePath(path: string): string {
  return isNormal(path) ? path : (normalize(path, false) as string)
}

/**
 * normalizePath for a path as a client sent it, or undefined (answered 400) when it holds
 * "%2F", "%5C" or a raw "\". Why refuse rather than decode: an encoded slash is ambiguous.
 * Decoding it for matching but forwarding it encoded lets routing and the backend disagree
 * (the bypass this module exists to close: "/%2fipr" routed as a catch-all, served as
 * "/ipr" by a backend that decodes); decoding it for both silently changes what the backend
 * receives ("group%2Fproject" becomes two segments). Refusing is the default of Tomcat
 * (400) and Apache httpd (AllowEncodedSlashes Off) and Envoy's REJECT_REQUEST option.
 * "\" is treated alike because WHATWG URL parsers, Windows servers and legacy url.parse()
 * take it for "/"; a valid URL never holds a raw one.
 * `keepEncodedSlashes` (a server's `encoded_slashes = "keep"`, Apache's AllowEncodedSlashes
 * NoDecode) keeps "%2F" and "%5C" as data instead, matched and forwarded encoded: for APIs that
 * carry them in a segment ("projects/group%2Fname"), behind backends that do not decode them
 * before routing. A raw "\" is refused either way.
 */
export function normalizeRequestPath(path: string, keepEncodedSlashes = false): string | undefined {
  if (isNormal(path)) return path
  if (path.includes('\\')) return undefined
  return normalize(path, !keepEncodedSlashes)
}

/** Whether `path` needs no work: the one scan the common request pays. */
function isNormal(path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i)
    if (c === 0x25 /* % */ || c === 0x5c /* \ */) return false
    if (c === 0x2f /* / */ && startsEmptyOrDotSegment(path, i + 1)) return false
  }
  return true
}

/** Whether the segment starting at `i` (just after a "/") is "", "." or "..". */
function startsEmptyOrDotSegment(path: string, i: number): boolean {
  let c = path.charCodeAt(i)
  if (c === 0x2f) return true
  if (c !== 0x2e /* . */) return false
  c = path.charCodeAt(i + 1)
  if (c === 0x2e) c = path.charCodeAt(i + 2)
  return c === 0x2f || Number.isNaN(c)
}

function normalize(path: string, refuseEncodedSeparators: boolean): string | undefined {
  const decoded = path.includes('%') ? decodeUnreserved(path, refuseEncodedSeparators) : path
  return decoded === undefined ? undefined : removeDotSegments(decoded)
}

const HEX = '0123456789ABCDEF'

/** Decodes escapes of unreserved characters and upper-cases the others; undefined on "%2F"/"%5C" when refusing them. */
function decodeUnreserved(path: string, refuseEncodedSeparators: boolean): string | undefined {
  let out = ''
  let from = 0
  let i = path.indexOf('%')
  while (i >= 0) {
    const hi = hexValue(path.charCodeAt(i + 1))
    const lo = hexValue(path.charCodeAt(i + 2))
    if (hi < 0 || lo < 0) {
      i = path.indexOf('%', i + 1)
      continue
    }
    const code = hi * 16 + lo
    if (refuseEncodedSeparators && (code === 0x2f || code === 0x5c)) return undefined
    out += path.slice(from, i) + (isUnreserved(code) ? String.fromCharCode(code) : `%${HEX[hi]}${HEX[lo]}`)
    from = i + 3
    i = path.indexOf('%', from)
  }
  return from === 0 ? path : out + path.slice(from)
}

/** 0-15 for a hex digit's char code, -1 otherwise (NaN past the end included). */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (c >= 0x41 && c <= 0x46) return c - 0x37
  if (c >= 0x61 && c <= 0x66) return c - 0x57
  return -1
}

/** RFC 3986 2.3: ALPHA / DIGIT / "-" / "." / "_" / "~". */
function isUnreserved(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e
  )
}

/** Drops empty segments (merging slashes) and resolves "." and ".."; a trailing "/" is kept. */
function removeDotSegments(path: string): string {
  const segments = path.split('/')
  const last = segments.length - 1
  const out: string[] = []
  for (let i = 1; i <= last; i++) {
    const segment = segments[i] as string
    if (segment === '..') out.pop()
    else if (segment !== '.' && segment !== '') {
      out.push(segment)
      continue
    }
    if (i === last) out.push('')
  }
  return `/${out.join('/')}`
}

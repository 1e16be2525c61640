import { connect, type Socket } from 'node:net'

/** One HTTP/1.1 response read off a raw socket, headers exactly as the peer sent them. */
export interface RawResponse {
  status: number
  /** The status line and header lines as received (no final blank line). */
  head: string
  /** Header names lower-cased -> every value received for that name, in order. */
  headers: Record<string, string[]>
  /** The body, de-chunked when the response was chunked. */
  body: Buffer
}

/** Options of {@link rawRequest}. */
export interface RawRequestOptions {
  host?: string
  /** Rejects when no complete response arrived in this time. */
  timeoutMs?: number
  /** The request was a HEAD (the response has no body whatever its headers say). */
  head?: boolean
}

/**
 * Writes `bytes` as they are (a request the test crafts by hand, malformed ones included)
 * to `port` on a new connection and resolves with the first complete response, then
 * closes the socket. Framing follows content-length, chunked, or the connection closing.
 */
export function rawRequest(port: number, bytes: string | Buffer, options: RawRequestOptions = {}): Promise<RawResponse> {
  const socket = connect({ host: options.host ?? '127.0.0.1', port })
  socket.write(bytes)
  return readRawResponse(socket, options).finally(() => socket.destroy())
}

/** Reads one response from `socket` (which the caller keeps and closes). */
export function readRawResponse(socket: Socket, options: RawRequestOptions = {}): Promise<RawResponse> {
  const timeoutMs = options.timeoutMs ?? 5000
  const isHead = options.head ?? false
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0)
    const seen = () => buffered.toString('latin1').slice(0, 500)
    const finish = (err: Error | undefined, res?: RawResponse) => {
      clearTimeout(timer)
      socket.off('data', onData).off('end', onEnd).off('close', onEnd).off('error', onError)
      if (err) reject(err)
      else resolve(res as RawResponse)
    }
    const timer = setTimeout(() => finish(new Error(`no complete response within ${timeoutMs}ms; got: ${seen()}`)), timeoutMs)
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk])
      const parsed = tryParse(buffered, false, isHead)
      if (parsed !== undefined) finish(undefined, parsed)
    }
    // A close or reset right after a complete close-delimited response still counts as that response.
    const onEnd = () => {
      const parsed = tryParse(buffered, true, isHead)
      finish(parsed === undefined ? new Error(`connection closed before a complete response: ${seen()}`) : undefined, parsed)
    }
    const onError = (err: Error) => {
      const parsed = tryParse(buffered, true, isHead)
      finish(parsed === undefined ? err : undefined, parsed)
    }
    socket.on('data', onData).on('end', onEnd).on('close', onEnd).on('error', onError)
  })
}

/** The response in `data` once complete (`closed`: the peer has closed, ending a close-delimited body). */
function tryParse(data: Buffer, closed: boolean, isHead: boolean): RawResponse | undefined {
  const end = data.indexOf('\r\n\r\n')
  if (end < 0) return undefined
  const head = data.subarray(0, end).toString('latin1')
  const [statusLine, ...lines] = head.split('\r\n')
  const status = Number((statusLine ?? '').split(' ')[1])
  const headers: Record<string, string[]> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    const name = line.slice(0, colon).trim().toLowerCase()
    headers[name] = [...(headers[name] ?? []), line.slice(colon + 1).trim()]
  }
  const rest = data.subarray(end + 4)
  if (status < 200 || status === 204 || status === 304 || isHead) return { status, head, headers, body: Buffer.alloc(0) }
  const length = headers['content-length']?.[0]
  if (length !== undefined) {
    const n = Number(length)
    return rest.length >= n ? { status, head, headers, body: rest.subarray(0, n) } : undefined
  }
  if (/chunked/i.test(headers['transfer-encoding']?.join(',') ?? '')) {
    const body = dechunk(rest)
    return body === undefined ? undefined : { status, head, headers, body }
  }
  return closed ? { status, head, headers, body: rest } : undefined
}

/** The de-chunked body, or undefined while the last chunk has not arrived. */
function dechunk(data: Buffer): Buffer | undefined {
  const parts: Buffer[] = []
  let at = 0
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at)
    if (lineEnd < 0) return undefined
    const size = Number.parseInt(data.subarray(at, lineEnd).toString('latin1'), 16)
    if (size === 0) return data.indexOf('\r\n\r\n', lineEnd) >= 0 ? Buffer.concat(parts) : undefined
    if (data.length < lineEnd + 2 + size + 2) return undefined
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size))
    at = lineEnd + 2 + size + 2
  }
}

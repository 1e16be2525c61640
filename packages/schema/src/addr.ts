/** One upstream backend as written in `addrs`: "host:port [weight]". */
export interface BackendAddr {
  host: string
  port: number
  weight: number
  /** "host:port" as written, the backend's identity across reloads. */
  id: string
}

const ADDR = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})(?:\s+(\d+))?$/

/** Parses "host:port [weight]"; throws with a readable message when malformed. */
export function parseBackendAddr(text: string): BackendAddr {
  const m = ADDR.exec(text.trim())
  if (!m) throw new Error(`invalid address "${text}" (expected "host:port" or "host:port weight")`)
  const port = Number(m[2])
  if (port < 1 || port > 65535) throw new Error(`invalid port in "${text}"`)
  const weight = m[3] === undefined ? 1 : Number(m[3])
  if (weight < 1 || weight > 10_000) throw new Error(`weight must be 1..10000 in "${text}"`)
  const host = (m[1] as string).replace(/^\[|\]$/g, '')
  return { host, port, weight, id: `${m[1]}:${port}` }
}

/** A listen address "host:port" ("[::1]:80" for IPv6). */
export interface ListenAddr {
  host: string
  port: number
}

/** Parses a listen address; throws with a readable message when malformed. */
export function parseListenAddr(text: string): ListenAddr {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]*):(\d{1,5})$/.exec(text.trim())
  if (!m) throw new Error(`invalid listen address "${text}" (expected "host:port")`)
  const port = Number(m[2])
  if (port > 65535) throw new Error(`invalid port in "${text}"`)
  return { host: (m[1] as string).replace(/^\[|\]$/g, '') || '0.0.0.0', port }
}

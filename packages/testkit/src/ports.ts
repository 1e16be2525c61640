import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'

/**
 * The kernel's ephemeral range (outgoing connections take their local ports from it). A port
 * handed out by listen(0) comes from that range too, so between "free" and the moment the
 * process under test binds it, any client connection on the machine may take it (EADDRINUSE).
 * Test ports are picked below the range instead.
 */
function ephemeralStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768
  } catch {
    return 32768
  }
}

const LOW = 10_000
const HIGH = Math.max(LOW + 1000, ephemeralStart())
const handedOut = new Set<number>()

function tryBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.unref()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/**
 * A TCP port free on 127.0.0.1 right now, outside the ephemeral range and never the same twice
 * in one test process (bound and released; concurrent test files pick at random, so they rarely meet).
 */
export async function freePort(): Promise<number> {
  return pickPort(LOW, HIGH)
}

/** Where refusedPort() picks: below every port freePort() hands out, so no test ever listens there. */
const REFUSED_LOW = 2000

/**
 * A port on 127.0.0.1 where nothing listens, for a backend that is down: connections are refused
 * for the whole test. freePort() would do only until a test file running alongside is handed the
 * same port and answers on it (a 404 where a 502 was expected); this range is not handed out.
 */
export async function refusedPort(): Promise<number> {
  return pickPort(REFUSED_LOW, LOW)
}

async function pickPort(low: number, high: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low))
    if (handedOut.has(port)) continue
    if (await tryBind(port)) {
      handedOut.add(port)
      return port
    }
  }
  throw new Error(`no free port found between ${low} and ${high}`)
}

import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Session } from 'node:inspector/promises'
import { getHeapSnapshot } from 'node:v8'

/** Longest CPU profile one request may ask for. */
export const MAX_PROFILE_SECONDS = 60

/** Handles `/debug/*` on the status listener; false when the path is not one of them. */
export type DebugEndpoints = (req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams) => boolean

/**
 * Profiling on demand, behind a bearer token (`Authorization: Bearer TOKEN`):
 * `GET /debug/cpu-profile?seconds=N` (1..60, default 10) answers a `.cpuprofile` (Chrome DevTools
 * JSON) of this process; `GET /debug/heap-snapshot` streams a `.heapsnapshot` (taking it pauses the
 * process while the heap is walked). One profile or snapshot at a time (409 otherwise). With no
 * token, every path answers 401; the token is never logged or echoed.
 */
export function createDebugEndpoints(tokens: readonly string[]): DebugEndpoints {
  const digests = tokens.map(digest)
  let busy = false
  const authorized = (req: IncomingMessage): boolean => {
    const header = req.headers.authorization
    if (header === undefined || !/^Bearer /i.test(header)) return false
    const given = digest(header.slice(7).trim())
    let ok = false
    for (const d of digests) ok = timingSafeEqual(d, given) || ok
    return ok
  }
  const run = async (res: ServerResponse, work: () => Promise<void>) => {
    if (busy) return json(res, 409, 'BUSY', 'a profile or heap snapshot is already being taken')
    busy = true
    try {
      await work()
    } catch (err) {
      if (!res.headersSent) json(res, 500, 'INTERNAL', `profiling failed: ${(err as Error).message}`)
      else res.destroy()
    } finally {
      busy = false
    }
  }
  return (req, res, path, query) => {
    if (path !== '/debug' && !path.startsWith('/debug/')) return false
    if (!authorized(req)) {
      res.setHeader('www-authenticate', 'Bearer realm="fleetgate debug"')
      json(res, 401, 'UNAUTHORIZED', 'a valid debug token is required (Authorization: Bearer TOKEN)')
      return true
    }
    if (req.method !== 'GET') json(res, 405, 'METHOD_NOT_ALLOWED', 'use GET')
    else if (path === '/debug/cpu-profile') {
      const seconds = profileSeconds(query.get('seconds'))
      if (seconds === undefined) json(res, 400, 'BAD_REQUEST', `seconds must be an integer from 1 to ${MAX_PROFILE_SECONDS}`)
      else void run(res, () => cpuProfile(res, seconds))
    } else if (path === '/debug/heap-snapshot') void run(res, () => heapSnapshot(res))
    else json(res, 404, 'NO_ROUTE', 'try /debug/cpu-profile?seconds=N or /debug/heap-snapshot')
    return true
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest()
}

function profileSeconds(raw: string | null): number | undefined {
  if (raw === null) return 10
  const n = Number(raw)
  return /^\d+$/.test(raw) && n >= 1 && n <= MAX_PROFILE_SECONDS ? n : undefined
}

async function cpuProfile(res: ServerResponse, seconds: number): Promise<void> {
  const session = new Session()
  session.connect()
  try {
    await session.post('Profiler.enable')
    await session.post('Profiler.start')
    // The client going away ends the profile early; nothing is sent then.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, seconds * 1000)
      res.once('close', () => {
        clearTimeout(timer)
        resolve()
      })
    })
    const { profile } = await session.post('Profiler.stop')
    if (res.destroyed) return
    const body = JSON.stringify(profile)
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-disposition': `attachment; filename="fleetgate-${process.pid}-${Date.now()}.cpuprofile"`,
      'cache-control': 'no-store',
    })
    res.end(body)
  } finally {
    session.disconnect()
  }
}

async function heapSnapshot(res: ServerResponse): Promise<void> {
  const snapshot = getHeapSnapshot()
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-disposition': `attachment; filename="fleetgate-${process.pid}-${Date.now()}.heapsnapshot"`,
    'cache-control': 'no-store',
  })
  await new Promise<void>((resolve, reject) => {
    snapshot.once('error', reject)
    res.once('close', () => {
      snapshot.destroy()
      resolve()
    })
    snapshot.pipe(res)
  })
}

function json(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
  res.end(`${JSON.stringify({ error: { code, status, message } })}\n`)
}

/** Exit codes of `fleetgate ctl`. */
export const EXIT = { ok: 0, refused: 1, usage: 2, unreachable: 3 } as const

/** A ctl run that cannot go on: the lines to print on stderr and the exit code. */
export class CtlFailure extends Error {
  readonly exitCode: number
  readonly lines: string[]
  constructor(exitCode: number, lines: string[]) {
    super(lines.join('\n'))
    this.name = 'CtlFailure'
    this.exitCode = exitCode
    this.lines = lines
  }
}

/** One request to the admin API. */
export interface AdminRequest {
  method?: 'GET' | 'PUT' | 'POST' | 'DELETE'
  /** Under /api/v1, for example `/config`. */
  path: string
  body?: string
  contentType?: string
  accept?: string
  headers?: Record<string, string>
  /** Sees the headers of a 2xx answer (warnings the API sends beside the body). */
  onHeaders?: (headers: Headers) => void
}

/** How long one request may take: a 10,000-location config is validated and published within it. */
const REQUEST_TIMEOUT_MS = 60_000

/** The admin API of one control plane, as `fleetgate ctl` uses it. */
export class AdminClient {
  readonly #base: string
  readonly #token: string | undefined

  /** `server` is a base URL ("http://host:port"); a bare "host:port" means http. */
  constructor(server: string, token: string | undefined) {
    this.#base = (/^https?:\/\//.test(server) ? server : `http://${server}`).replace(/\/+$/, '')
    this.#token = token
  }

  /** Sends `req` and returns the body text of a 2xx answer; anything else throws a {@link CtlFailure}. */
  async text(req: AdminRequest): Promise<string> {
    const headers: Record<string, string> = { accept: req.accept ?? 'application/json', ...req.headers }
    if (this.#token) headers.authorization = `Bearer ${this.#token}`
    if (req.contentType) headers['content-type'] = req.contentType
    let res: Response
    try {
      res = await fetch(`${this.#base}/api/v1${req.path}`, {
        method: req.method ?? 'GET',
        headers,
        ...(req.body === undefined ? {} : { body: req.body }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      })
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause
      throw new CtlFailure(EXIT.unreachable, [`cannot reach ${this.#base}: ${cause?.code ?? cause?.message ?? (err as Error).message}`])
    }
    const text = await res.text()
    if (res.ok) {
      req.onHeaders?.(res.headers)
      return text
    }
    throw refusal(res, text, this.#token !== undefined)
  }

  /** Like {@link text}, parsing a JSON answer. */
  async json<T>(req: AdminRequest): Promise<T> {
    return JSON.parse(await this.text(req)) as T
  }
}

/** Turns an error answer into what the user needs to read, and the exit code. */
function refusal(res: Response, text: string, hasToken: boolean): CtlFailure {
  let body: { message?: string; errors?: Array<{ path: string; message: string }> } = {}
  try {
    body = JSON.parse(text)
  } catch {}
  const message = body.message ?? (text.trim() || res.statusText)
  switch (res.status) {
    case 400: {
      const errors = body.errors ?? []
      return new CtlFailure(
        EXIT.refused,
        errors.length > 0 ? errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)) : [message],
      )
    }
    case 401:
      return new CtlFailure(EXIT.unreachable, [
        hasToken ? 'authentication failed: the token was refused' : 'no token: pass --token or set FLEETGATE_TOKEN',
      ])
    case 403:
      return new CtlFailure(EXIT.unreachable, [`not allowed: ${message} (a write needs an admin token)`])
    case 429:
      return new CtlFailure(EXIT.unreachable, [
        `too many failed attempts from this address; retry in ${res.headers.get('retry-after') ?? 'a while'} s`,
      ])
    case 404:
      return new CtlFailure(EXIT.refused, [`not found: ${message}`])
    case 409:
      return new CtlFailure(EXIT.refused, [`conflict: ${message}`])
    case 412:
      return new CtlFailure(EXIT.refused, [`the config changed since it was read (ETag mismatch): ${message}; read it again and retry`])
    default:
      return new CtlFailure(res.status >= 500 ? EXIT.unreachable : EXIT.refused, [`${res.status}: ${message}`])
  }
}

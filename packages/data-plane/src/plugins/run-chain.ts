import { randomBytes } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import { sendError } from '../error-response.ts'
import type { ForwardOutcome } from '../proxy/forward.ts'
import type { PluginChain } from './chain.ts'
import { setFlatHeader } from './flat-headers.ts'
import type { HookResult, PluginReply, RequestContext, ResponseHead, UpstreamRequest } from './types.ts'

/** Called once when a request ends (observer and log phase). */
export type EndRequest = (outcome: ForwardOutcome) => void

const isPromise = (value: unknown): value is Promise<HookResult> => typeof (value as Promise<unknown> | undefined)?.then === 'function'

/**
 * Runs the request phase: each hook in order; the first reply is written (through the response
 * phase) and ends the request, a throw answers 500; otherwise `proceed` runs. Synchronous hooks
 * cost no promise: the chain only goes asynchronous from a hook that returns a promise.
 */
export function runRequestPhase(chain: PluginChain, ctx: RequestContext, res: ServerResponse, proceed: () => void, end: EndRequest): void {
  const hooks = chain.request
  let i = 0
  const settle = (name: string, result: HookResult): boolean => {
    if (result === undefined) return false
    ctx.vars.answered_by = name
    writeReply(chain, ctx, res, result, end)
    return true
  }
  const step = (): void => {
    while (i < hooks.length) {
      const { name, run } = hooks[i++] as (typeof hooks)[number]
      let result: HookResult | Promise<HookResult>
      try {
        result = run(ctx)
      } catch (err) {
        failRequest(chain, ctx, res, name, err, end)
        return
      }
      if (isPromise(result)) {
        result.then(
          (r) => {
            if (res.destroyed) end(clientGone(res))
            else if (!settle(name, r)) step()
          },
          (err: unknown) => failRequest(chain, ctx, res, name, err, end),
        )
        return
      }
      if (settle(name, result)) return
    }
    proceed()
  }
  step()
}

/** Runs the upstream_request phase; false when a hook threw (a 500 was answered and the request ended). */
export function runUpstreamRequestPhase(
  chain: PluginChain,
  ctx: RequestContext,
  upstream: UpstreamRequest,
  res: ServerResponse,
  end: EndRequest,
): boolean {
  for (const { name, run } of chain.upstreamRequest) {
    try {
      run(ctx, upstream)
    } catch (err) {
      failRequest(chain, ctx, res, name, err, end)
      return false
    }
  }
  return true
}

/** Runs the response phase on `head`; false when a hook threw (logged with an error id; the caller answers 500). */
export function runResponsePhase(chain: PluginChain, ctx: RequestContext, head: ResponseHead): boolean {
  for (const { name, run } of chain.response) {
    try {
      run(ctx, head)
    } catch (err) {
      logFailure(chain, ctx, name, 'response', err)
      return false
    }
  }
  return true
}

/** Runs the log phase; a throw is logged and the other hooks still run. */
export function runLogPhase(chain: PluginChain, ctx: RequestContext, outcome: ForwardOutcome): void {
  for (const { name, run } of chain.log) {
    try {
      run(ctx, outcome)
    } catch (err) {
      logFailure(chain, ctx, name, 'log', err)
    }
  }
}

/** Writes a plugin's reply: headers through the response phase, content-length set, no body for HEAD. */
function writeReply(chain: PluginChain, ctx: RequestContext, res: ServerResponse, reply: PluginReply, end: EndRequest): void {
  const headers: string[] = []
  for (const [name, value] of Object.entries(reply.headers ?? {})) {
    if (typeof value === 'string') headers.push(name, value)
    else for (const v of value) headers.push(name, v)
  }
  const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body
  const bodyless = reply.status === 204 || reply.status === 304 || reply.status < 200
  if (!bodyless) setFlatHeader(headers, 'content-length', String(body?.length ?? 0))
  const head: ResponseHead = { status: reply.status, headers }
  if (!runResponsePhase(chain, ctx, head)) {
    sendError(ctx.req, res, 'INTERNAL', ctx.vars.request_id)
    end({ status: 500, backend: undefined, attempts: 0, error: 'INTERNAL', cause: undefined })
    return
  }
  res.writeHead(head.status, head.headers)
  res.end(bodyless || ctx.method === 'HEAD' ? undefined : body)
  end({ status: head.status, backend: undefined, attempts: 0, error: undefined, cause: undefined })
}

/** A hook threw or rejected: a bug, answered 500 with an error id that the log line also carries. */
function failRequest(chain: PluginChain, ctx: RequestContext, res: ServerResponse, name: string, err: unknown, end: EndRequest): void {
  const errorId = logFailure(chain, ctx, name, 'request', err)
  if (!res.headersSent && !res.destroyed) res.setHeader('x-fleetgate-error-id', errorId)
  sendError(ctx.req, res, 'INTERNAL', ctx.vars.request_id)
  end({ status: 500, backend: undefined, attempts: 0, error: 'INTERNAL', cause: err })
}

function logFailure(chain: PluginChain, ctx: RequestContext, name: string, phase: string, err: unknown): string {
  const errorId = randomBytes(8).toString('hex')
  chain.logger.error({ err, errorId, plugin: name, phase, method: ctx.method, path: ctx.path, location: ctx.location }, 'plugin failed')
  return errorId
}

function clientGone(res: ServerResponse): ForwardOutcome {
  return { status: res.statusCode, backend: undefined, attempts: 0, error: undefined, cause: new Error('client closed the connection') }
}

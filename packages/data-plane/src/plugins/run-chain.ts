import { randomBytes } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import { type Duplex, pipeline } from 'node:stream'
import { errorReply, sendError } from '../error-response.ts'
import type { ErrorCode } from '../errors.ts'
import { clientClosed, isClientGone } from '../proxy/client-gone.ts'
import type { ForwardHooks, ForwardOutcome } from '../proxy/forward.ts'
import { normalizePath } from '../proxy/normalize-path.ts'
import type { PluginChain } from './chain.ts'
import { setFlatHeader } from './flat-headers.ts'
import { countPluginFailure, countPluginReply } from './plugin-counters.ts'
import type { BodyPipeline, HookResult, PluginReply, PreRouteResult, RequestContext, ResponseHead, UpstreamRequest } from './types.ts'

/** Called once when a request ends (observer and log phase). */
export type EndRequest = (outcome: ForwardOutcome) => void

const isPromise = (value: unknown): value is Promise<HookResult> => typeof (value as Promise<unknown> | undefined)?.then === 'function'

/**
 * Runs the request phase: each hook in order; the first reply is written (through the response
 * phase) and ends the request, a throw answers 500; otherwise `proceed` runs. Synchronous hooks
 * cost no promise: the chain only goes asynchronous from a hook that returns a promise.
 */
export function runRequestPhase(chain: PluginChain, ctx: RequestContext, res: ServerResponse, proceed: () => void, end: EndRequest): void {
  runRequestHooks(chain, ctx, res, proceed, end, 0)
}

/** The request hooks from index `from` on; a loop with no closure until a hook returns a promise. */
function runRequestHooks(
  chain: PluginChain,
  ctx: RequestContext,
  res: ServerResponse,
  proceed: () => void,
  end: EndRequest,
  from: number,
): void {
  const hooks = chain.request
  for (let i = from; i < hooks.length; i++) {
    const { name, run } = hooks[i] as (typeof hooks)[number]
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
          if (isClientGone(res)) end(clientClosed(new Error('the client closed the connection while a plugin waited')))
          else if (!answerRequest(chain, ctx, res, end, name, r)) runRequestHooks(chain, ctx, res, proceed, end, i + 1)
        },
        (err: unknown) => failRequest(chain, ctx, res, name, err, end),
      )
      return
    }
    if (answerRequest(chain, ctx, res, end, name, result)) return
  }
  proceed()
}

/** Writes a request or pre_route hook's reply, if it gave one, and ends the request; false when it gave none. */
function answerRequest(
  chain: PluginChain,
  ctx: RequestContext,
  res: ServerResponse,
  end: EndRequest,
  name: string,
  result: HookResult,
): boolean {
  if (result === undefined) return false
  ctx.vars.answered_by = name
  countPluginReply(name, result)
  writeReply(chain, ctx, res, result, (status, failure, bodyBytes) =>
    end({ status, backend: undefined, attempts: 0, error: failure ? 'INTERNAL' : undefined, cause: failure, bodyBytes }),
  )
  return true
}

/**
 * Runs the pre_route phase of a server's global plugins, before the router: each hook sees the
 * path the router will see; `{ path }` changes it (normalized; a path not starting with "/" is
 * the plugin's bug: 500), the first reply is written (through the response phases) and ends the
 * request, a throw answers 500. Returns the path to route, or false when the request ended.
 */
export function runPreRoutePhase(chain: PluginChain, ctx: RequestContext, res: ServerResponse, end: EndRequest): string | false {
  let path = ctx.path
  for (const { name, run } of chain.preRoute ?? []) {
    let result: PreRouteResult
    try {
      result = run(ctx, path)
      if (result !== undefined && 'path' in result && (typeof result.path !== 'string' || result.path.charCodeAt(0) !== 47)) {
        throw new Error(`pre_route returned a path that does not start with "/": ${JSON.stringify(result.path)}`)
      }
    } catch (err) {
      failRequest(chain, ctx, res, name, err, end, 'pre_route')
      return false
    }
    if (result === undefined) continue
    if ('path' in result) {
      path = normalizePath(result.path)
      continue
    }
    answerRequest(chain, ctx, res, end, name, result)
    return false
  }
  return path
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

/**
 * Runs the response_body phase on a head about to be written (before the response phase):
 * undefined when no hook returned a transform (or the response cannot have a body: HEAD, 1xx,
 * 204), false when a hook threw (logged; the caller answers 500). A 304 reaches the hooks,
 * which leave it alone unless they turn it into a full response (the cache, revalidating).
 * Several transforms are piped in priority order; an error in any destroys them all and
 * surfaces on the output.
 */
export function runResponseBodyPhase(chain: PluginChain, ctx: RequestContext, head: ResponseHead): BodyPipeline | undefined | false {
  if (ctx.method === 'HEAD' || head.status === 204 || head.status < 200) return undefined
  let streams: Duplex[] | undefined
  for (const { name, run } of chain.responseBody) {
    let transform: Duplex | undefined
    try {
      transform = run(ctx, head)
    } catch (err) {
      logFailure(chain, ctx, name, 'response_body', err)
      for (const s of streams ?? []) s.destroy()
      return false
    }
    if (transform === undefined) continue
    if (streams === undefined) streams = [transform]
    else streams.push(transform)
  }
  if (streams === undefined) return undefined
  const input = streams[0] as Duplex
  const output = streams[streams.length - 1] as Duplex
  if (streams.length > 1) pipeline(streams, () => {})
  return { input, output }
}

/** A request's chain as the forwarder's hooks on the answer: one object per request instead of a closure per phase. */
export class ChainHooks implements ForwardHooks {
  readonly #chain: PluginChain
  readonly #ctx: RequestContext
  readonly #res: ServerResponse

  constructor(chain: PluginChain, ctx: RequestContext, res: ServerResponse) {
    this.#chain = chain
    this.#ctx = ctx
    this.#res = res
  }

  responseBody(head: ResponseHead): BodyPipeline | undefined | false {
    return this.#chain.responseBody.length === 0 ? undefined : runResponseBodyPhase(this.#chain, this.#ctx, head)
  }

  response(head: ResponseHead): boolean {
    return runResponsePhase(this.#chain, this.#ctx, head)
  }

  writeError(code: ErrorCode, done: (bodyBytes: number | undefined) => void): void {
    writeGatewayError(this.#chain, this.#ctx, this.#res, code, done)
  }
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

/**
 * Answers a gateway error (no upstream, upstream down, no route, ...) through the chain's
 * response_body and response hooks, so it gets CORS, security headers and the like (and a
 * cache may answer a stale entry instead); a gRPC client's error is written as it is.
 */
export function writeGatewayError(
  chain: PluginChain,
  ctx: RequestContext,
  res: ServerResponse,
  code: ErrorCode,
  done: (bodyBytes: number | undefined) => void,
): void {
  const reply = res.headersSent ? undefined : errorReply(ctx.req, code, ctx.vars.request_id)
  if (reply === undefined) {
    sendError(ctx.req, res, code, ctx.vars.request_id)
    done(undefined)
    return
  }
  writeReply(chain, ctx, res, reply, (_status, _failure, bodyBytes) => done(bodyBytes))
}

/** How a written reply ended: its status, a failure (transform error, client gone), body bytes sent. */
type ReplyDone = (status: number, failure: Error | undefined, bodyBytes: number) => void

/** Writes a reply: through the response_body and response phases, content-length set, no body for HEAD. */
function writeReply(chain: PluginChain, ctx: RequestContext, res: ServerResponse, reply: PluginReply, done: ReplyDone): void {
  const headers: string[] = []
  for (const [name, value] of Object.entries(reply.headers ?? {})) {
    if (typeof value === 'string') headers.push(name, value)
    else for (const v of value) headers.push(name, v)
  }
  const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body
  const bodyless = reply.status === 204 || reply.status === 304 || reply.status < 200
  if (!bodyless) setFlatHeader(headers, 'content-length', String(body?.length ?? 0))
  const head: ResponseHead = { status: reply.status, headers }
  const transformed = chain.responseBody.length === 0 ? undefined : runResponseBodyPhase(chain, ctx, head)
  if (transformed === false || !runResponsePhase(chain, ctx, head)) {
    if (transformed) transformed.input.destroy()
    sendError(ctx.req, res, 'INTERNAL', ctx.vars.request_id)
    done(500, new Error('a plugin failed on the response'), 0)
    return
  }
  res.writeHead(head.status, head.headers)
  if (transformed !== undefined) {
    writeTransformed(transformed, res, body, (failure, bytes) => done(head.status, failure, bytes))
    return
  }
  const sent = bodyless || ctx.method === 'HEAD' ? undefined : body
  res.end(sent)
  done(head.status, undefined, sent?.length ?? 0)
}

/** Sends a reply body through the response_body transforms; `done` once, when the response closed. */
function writeTransformed(
  transformed: BodyPipeline,
  res: ServerResponse,
  body: Buffer | undefined,
  done: (failure: Error | undefined, bodyBytes: number) => void,
): void {
  let failure: Error | undefined
  let bytes = 0
  transformed.output.on('data', (chunk: Buffer) => {
    bytes += chunk.length
  })
  transformed.output.once('error', (err) => {
    failure = err
    res.destroy(err)
  })
  res.once('close', () => {
    if (!transformed.output.readableEnded) transformed.input.destroy()
    done(failure ?? (res.writableFinished ? undefined : new Error('client closed the connection')), bytes)
  })
  transformed.output.pipe(res)
  transformed.input.end(body)
}

/** A hook threw or rejected: a bug, answered 500 with an error id that the log line also carries. */
function failRequest(
  chain: PluginChain,
  ctx: RequestContext,
  res: ServerResponse,
  name: string,
  err: unknown,
  end: EndRequest,
  phase = 'request',
): void {
  const errorId = logFailure(chain, ctx, name, phase, err)
  if (!res.headersSent && !res.destroyed) res.setHeader('x-fleetgate-error-id', errorId)
  sendError(ctx.req, res, 'INTERNAL', ctx.vars.request_id)
  end({ status: 500, backend: undefined, attempts: 0, error: 'INTERNAL', cause: err })
}

function logFailure(chain: PluginChain, ctx: RequestContext, name: string, phase: string, err: unknown): string {
  const errorId = randomBytes(8).toString('hex')
  countPluginFailure(name, phase)
  chain.logger.error({ err, errorId, plugin: name, phase, method: ctx.method, path: ctx.path, location: ctx.location }, 'plugin failed')
  return errorId
}

import { parseToml, toToml } from '@fleetgate/schema'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ServiceError } from '../service-types.ts'
import { badRequest } from './error-reply.ts'

/** Media types read and written as TOML. */
const TOML_TYPES = ['application/toml', 'text/toml', 'application/x-toml']

const TOML_CONTENT_TYPE = 'application/toml; charset=utf-8'

/**
 * Request bodies: JSON and TOML (an empty body counts as none for both: body-less POSTs with a
 * content type work, and a write of nothing is refused as a missing body). Both refuse malformed input with a 400 naming where it broke; prototype keys in
 * JSON are refused rather than merged.
 */
export function installBodyParsers(app: FastifyInstance): void {
  const json = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if ((body as string).trim() === '') return done(null, undefined)
    json(request, body as string, (err, value) => {
      if (err) return done(badRequest(jsonFailure(body as string, err)), undefined)
      // A config is a few levels deep; far deeper nesting only breaks the TOML writer later (a 500).
      if (depthOver(value, MAX_DEPTH)) return done(badRequest(`JSON nested deeper than ${MAX_DEPTH} levels`), undefined)
      done(null, value)
    })
  })
  app.addContentTypeParser(TOML_TYPES, { parseAs: 'string' }, (_request, body, done) => {
    // As for JSON: an empty body is none, so a PUT of nothing is a 400 rather than an empty config.
    if ((body as string).trim() === '') return done(null, undefined)
    const parsed = parseToml(body as string)
    if (parsed.ok) done(null, parsed.value)
    else done(new ServiceError('INVALID', 'malformed TOML', parsed.errors))
  })
}

/** How deep a JSON body may nest: a config needs fewer than ten levels. */
const MAX_DEPTH = 64

/** Whether `value` nests objects or arrays more than `max` levels deep (iterative: no stack to overflow). */
function depthOver(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]]
  while (stack.length > 0) {
    const [item, depth] = stack.pop() as [unknown, number]
    if (item === null || typeof item !== 'object') continue
    if (depth > max) return true
    for (const child of Object.values(item)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1])
  }
  return false
}

/**
 * Why a JSON body was refused. The parser refuses "__proto__" (and "constructor" holding a
 * "prototype") keys with the same error as bad syntax; valid syntax means that was the reason.
 */
function jsonFailure(body: string, err: Error): string {
  try {
    JSON.parse(body)
  } catch {
    return `malformed JSON: ${err.message}`
  }
  return 'JSON keys "__proto__" and "constructor.prototype" are refused: they are reserved names, not config keys or resource names'
}

/** True when the client asked for TOML (`Accept: application/toml`, or `?format=toml`). */
export function wantsToml(request: FastifyRequest): boolean {
  const format = (request.query as Record<string, unknown> | undefined)?.format
  if (format === 'toml') return true
  if (format === 'json') return false
  const accept = request.headers.accept ?? ''
  return TOML_TYPES.some((type) => accept.includes(type))
}

/** Sends a config table as TOML or JSON, as the client asked. */
export function sendTable(request: FastifyRequest, reply: FastifyReply, value: Record<string, unknown>): FastifyReply {
  if (wantsToml(request)) return reply.type(TOML_CONTENT_TYPE).send(toToml(value))
  return reply.send(value)
}

/** The request body as a table (a JSON object or a TOML document); anything else is a 400. */
export function tableBody(request: FastifyRequest, what = 'body'): Record<string, unknown> {
  const body = request.body
  if (body === null || body === undefined) throw badRequest(`${what} is missing (send a JSON object or TOML with its Content-Type)`)
  if (typeof body !== 'object' || Array.isArray(body)) throw badRequest(`${what} must be a JSON object or a TOML document`)
  return body as Record<string, unknown>
}

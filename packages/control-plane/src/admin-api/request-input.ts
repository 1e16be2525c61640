import { RESOURCE_KINDS, type ResourceKind, SINGLETON_SECTIONS, type SingletonSection } from '@fleetgate/schema'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Actor, WriteOptions } from '../service-types.ts'
import { badRequest } from './error-reply.ts'

/** Longest version message taken from X-Fleetgate-Message or `?message=`. */
const MAX_MESSAGE_LENGTH = 2000

/** What a path segment names: a resource kind (with names under it) or a singleton section. */
export type Section = { type: 'kind'; kind: ResourceKind } | { type: 'singleton'; section: SingletonSection }

/** Resolves a `/{kind}` or `/{section}` path segment; an unknown one is a 400 listing the valid ones. */
export function sectionParam(segment: string): Section {
  if ((RESOURCE_KINDS as readonly string[]).includes(segment)) return { type: 'kind', kind: segment as ResourceKind }
  if ((SINGLETON_SECTIONS as readonly string[]).includes(segment)) return { type: 'singleton', section: segment as SingletonSection }
  throw badRequest(`unknown kind "${segment}" (expected one of ${[...RESOURCE_KINDS, ...SINGLETON_SECTIONS].join(', ')})`, 'kind')
}

/** Resolves a `/{kind}/{name}` segment: only resource kinds have names. */
export function kindParam(segment: string): ResourceKind {
  const section = sectionParam(segment)
  if (section.type === 'kind') return section.kind
  throw badRequest(`"${segment}" is a single section: use /api/v1/${segment} without a name`, 'kind')
}

/** A generation from a path segment or body field: a non-negative integer, given as a number or digits. */
export function generationOf(value: unknown, what: string): number {
  const n = typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : value
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw badRequest(`${what}: expected a generation number (an integer >= 0), got ${JSON.stringify(value) ?? 'nothing'}`, what)
  }
  return n
}

/** The authenticated caller (set by the auth hook before any handler runs). */
export function actorOf(request: FastifyRequest): Actor {
  if (request.actor === null) throw new Error('admin API: handler reached without authentication')
  return request.actor
}

/** Author, message and If-Match of a write, from the caller and the X-Fleetgate-* headers. */
export function writeOptionsOf(request: FastifyRequest): WriteOptions {
  const options: WriteOptions = { author: actorOf(request).name }
  const message = headerValue(request, 'x-fleetgate-message') ?? (request.query as Record<string, unknown> | undefined)?.message
  if (typeof message === 'string' && message !== '') options.message = message.slice(0, MAX_MESSAGE_LENGTH)
  // Passed as sent (quoted, W/ or "*"): the service compares it with the tag it computes.
  const ifMatch = headerValue(request, 'if-match')
  if (ifMatch !== undefined) options.ifMatch = ifMatch
  return options
}

/** Sets the ETag header, quoted as HTTP wants it. */
export function setEtag(reply: FastifyReply, etag: string): FastifyReply {
  return reply.header('etag', etag.startsWith('"') || etag.startsWith('W/') ? etag : `"${etag}"`)
}

/** Header naming the `desired/` keys a whole-tree read left out because they cannot be decoded. */
export const UNREADABLE_KEYS_HEADER = 'x-fleetgate-unreadable-keys'

/**
 * Sets {@link UNREADABLE_KEYS_HEADER} to the keys (URI-encoded, comma-separated) when there are any, so
 * a client sees that the config it got is incomplete; GET /{kind}/{name} of one of them says why.
 */
export function setUnreadable(reply: FastifyReply, unreadable: ReadonlyArray<{ path: string }> | undefined): FastifyReply {
  if (unreadable === undefined || unreadable.length === 0) return reply
  return reply.header(UNREADABLE_KEYS_HEADER, unreadable.map((u) => encodeURIComponent(u.path)).join(', '))
}

function headerValue(request: FastifyRequest, name: string): string | undefined {
  const raw = request.headers[name]
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim()
  return value === '' ? undefined : value
}

import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { ConfigService } from '../service-types.ts'
import { sendTable, tableBody } from './body-formats.ts'
import { kindParam, sectionParam, setEtag, setUnreadable, writeOptionsOf } from './request-input.ts'

type KindParams = { Params: { kind: string } }
type NameParams = { Params: { kind: string; name: string } }

/**
 * One resource at a time: `/{kind}/{name}` for upstreams, locations, servers, plugins and
 * certificates, `/{section}` for basic, metrics and tracing. `GET /{kind}` lists a kind's resources
 * (its undecodable keys in the x-fleetgate-unreadable-keys header).
 * Static routes (/config, /versions, ...) take precedence over these in fastify's router.
 */
export function registerResourceRoutes(app: FastifyInstance, service: ConfigService): void {
  app.get('/:kind', async (request: FastifyRequest<KindParams>, reply) => {
    const section = sectionParam(request.params.kind)
    if (section.type === 'singleton') {
      const resource = await service.getResource(section.section, undefined)
      return sendTable(request, setEtag(reply, resource.etag), resource.value)
    }
    const desired = await service.getDesired()
    const resources = (desired.value[section.kind] as Record<string, unknown> | undefined) ?? {}
    const unreadable = desired.unreadable?.filter((u) => u.path.startsWith(`desired/${section.kind}/`))
    return sendTable(request, setUnreadable(setEtag(reply, desired.etag), unreadable), resources)
  })

  app.put('/:kind', { config: { access: 'write' } }, async (request: FastifyRequest<KindParams>) => {
    const section = sectionParam(request.params.kind)
    if (section.type === 'kind') {
      const err = new Error(`PUT one ${section.kind} resource at /api/v1/${section.kind}/NAME, or the whole config at /api/v1/config`)
      throw Object.assign(err, { statusCode: 405, code: 'METHOD_NOT_ALLOWED' })
    }
    const value = unwrapTable(tableBody(request, section.section), [section.section])
    return await service.putResource(section.section, undefined, value, writeOptionsOf(request))
  })

  app.get('/:kind/:name', async (request: FastifyRequest<NameParams>, reply) => {
    const resource = await service.getResource(kindParam(request.params.kind), request.params.name)
    return sendTable(request, setEtag(reply, resource.etag), resource.value)
  })

  app.put('/:kind/:name', { config: { access: 'write' } }, async (request: FastifyRequest<NameParams>) => {
    const { name } = request.params
    const kind = kindParam(request.params.kind)
    const value = unwrapTable(tableBody(request, `${kind}.${name}`), [kind, name])
    return await service.putResource(kind, name, value, writeOptionsOf(request))
  })

  app.delete('/:kind/:name', { config: { access: 'write' } }, async (request: FastifyRequest<NameParams>) => {
    return await service.deleteResource(kindParam(request.params.kind), request.params.name, writeOptionsOf(request))
  })
}

/**
 * Takes a resource's table out of its header when the body repeats it (`[upstreams.api]` followed by
 * its keys, as a TOML file holds it), so a section copied from a config file can be PUT as it is.
 */
function unwrapTable(body: Record<string, unknown>, path: string[]): Record<string, unknown> {
  let value = body
  for (const key of path) {
    const keys = Object.keys(value)
    const inner = value[key]
    if (keys.length !== 1 || keys[0] !== key || inner === null || typeof inner !== 'object' || Array.isArray(inner)) return body
    value = inner as Record<string, unknown>
  }
  return value
}

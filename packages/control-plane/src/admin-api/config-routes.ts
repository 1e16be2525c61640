import { pluginSchemas, RESOURCE_KINDS, SINGLETON_SECTIONS, sectionSchemas, toJsonSchema } from '@fleetgate/schema'
import type { FastifyInstance } from 'fastify'
import type { ConfigService } from '../service-types.ts'
import { sendTable, tableBody } from './body-formats.ts'
import { setEtag, setUnreadable, writeOptionsOf } from './request-input.ts'

/** `/config` (the whole desired tree), `/validate` and `/schema` (JSON Schemas for the UI's forms). */
export function registerConfigRoutes(app: FastifyInstance, service: ConfigService): void {
  // Undecodable desired/ keys are not in the body: the x-fleetgate-unreadable-keys header lists them.
  app.get('/config', async (request, reply) => {
    const desired = await service.getDesired()
    return sendTable(request, setUnreadable(setEtag(reply, desired.etag), desired.unreadable), desired.value)
  })

  // Refused with 409 naming them while undecodable desired/ keys exist that the body has no value for:
  // a read-edit-write round trip must not delete them unnoticed (DELETE /{kind}/{name} removes one).
  app.put('/config', { config: { access: 'write' } }, async (request) => {
    return await service.putDesired(tableBody(request, 'config'), writeOptionsOf(request))
  })

  // Checking a config changes nothing, so read-only tokens may do it.
  app.post('/validate', async (request, reply) => {
    const result = service.validate(tableBody(request, 'config'))
    return result.ok ? { ok: true, errors: [] } : reply.code(400).send({ ok: false, errors: result.errors })
  })

  let schemas:
    | { kinds: readonly string[]; singletons: readonly string[]; sections: Record<string, unknown>; plugins: Record<string, unknown> }
    | undefined
  app.get('/schema', async () => {
    // kinds have names (/{kind}/{name}); singletons are one table (/{section}).
    schemas ??= {
      kinds: RESOURCE_KINDS,
      singletons: SINGLETON_SECTIONS,
      sections: Object.fromEntries(Object.entries(sectionSchemas).map(([name, schema]) => [name, toJsonSchema(schema)])),
      plugins: Object.fromEntries(Object.entries(pluginSchemas).map(([type, schema]) => [type, toJsonSchema(schema)])),
    }
    return schemas
  })
}

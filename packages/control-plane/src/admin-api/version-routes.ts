import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { ConfigService } from '../service-types.ts'
import { sendTable, wantsToml } from './body-formats.ts'
import { actorOf, generationOf } from './request-input.ts'

type GenParams = { Params: { gen: string } }
type DiffParams = { Params: { a: string; b: string } }

/** History: `/versions`, one version, the diff of two, and restoring one into desired/. */
export function registerVersionRoutes(app: FastifyInstance, service: ConfigService): void {
  // `unreadable` lists versions/ keys that hold no valid manifest (key as path, and why); never cut by `limit`.
  app.get('/versions', async (request: FastifyRequest<{ Querystring: { limit?: string } }>) => {
    const { versions, unreadable } = await service.listVersions()
    const limit = request.query.limit === undefined ? undefined : generationOf(request.query.limit, 'limit')
    return { versions: limit === undefined ? versions : versions.slice(0, limit), unreadable }
  })

  // JSON: the version's summary and its config; TOML: the config alone, ready to apply again.
  app.get('/versions/:gen', async (request: FastifyRequest<GenParams>, reply) => {
    const { version, config } = await service.getVersion(generationOf(request.params.gen, 'generation'))
    return wantsToml(request) ? sendTable(request, reply, config) : { ...version, config }
  })

  app.get('/versions/:a/diff/:b', async (request: FastifyRequest<DiffParams>) => {
    return await service.diff(generationOf(request.params.a, 'from'), generationOf(request.params.b, 'to'))
  })

  app.post('/versions/:gen/restore', { config: { access: 'write' } }, async (request: FastifyRequest<GenParams>) => {
    return await service.restore(generationOf(request.params.gen, 'generation'), actorOf(request).name)
  })
}

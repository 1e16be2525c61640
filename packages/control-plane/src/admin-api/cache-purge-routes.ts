import { parseCachePurgeRequest } from '@fleetgate/schema'
import type { FastifyInstance } from 'fastify'
import type { CachePurges } from '../cache-purges.ts'
import { ServiceError } from '../service-types.ts'

/**
 * `POST /cache/purge` (admin role): `{"plugin"?: NAME, "url": URL}` or `{"plugin"?: NAME, "prefix": "URL*"}`;
 * 202 with the purge id once every data plane can see it (each applies it to its cache instances).
 */
export function registerCachePurgeRoutes(app: FastifyInstance, purges: CachePurges): void {
  app.post('/cache/purge', { config: { access: 'write' } }, async (request, reply) => {
    const parsed = parseCachePurgeRequest(request.body)
    if (!parsed.ok)
      throw new ServiceError(
        'INVALID',
        parsed.errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('; '),
        parsed.errors,
      )
    const record = await purges.submit(parsed.plugin, parsed.target)
    return reply.code(202).send({ id: record.id, plugin: record.plugin, target: record.target, at: record.at })
  })
}

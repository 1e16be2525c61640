import type { FastifyInstance } from 'fastify'
import type { ConfigService } from '../service-types.ts'
import { badRequest } from './error-reply.ts'
import { actorOf, generationOf } from './request-input.ts'

/** Publishing state and the fleet: `/publish`, `/rollback`, `/publish/release`, `/fleet`. */
export function registerPublishRoutes(app: FastifyInstance, service: ConfigService): void {
  app.get('/publish', async () => await service.publishStatus())

  app.post('/rollback', { config: { access: 'write' } }, async (request) => {
    const body = request.body
    if (body === null || typeof body !== 'object' || Array.isArray(body) || !('to' in body)) {
      throw badRequest('body must be {"to": GENERATION}', 'to')
    }
    return await service.rollback(generationOf((body as { to: unknown }).to, 'to'), actorOf(request).name)
  })

  app.post('/publish/release', { config: { access: 'write' } }, async (request) => await service.release(actorOf(request).name))

  app.get('/fleet', async () => await service.fleet())
}

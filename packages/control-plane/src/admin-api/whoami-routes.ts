import type { FastifyInstance } from 'fastify'
import { actorOf } from './request-input.ts'

/**
 * `GET /whoami`: the caller's role (`admin` or `readonly`) and author name, so a client (the web UI)
 * can disable writes for a read-only token without trying one. Any valid token may call it.
 */
export function registerWhoamiRoutes(app: FastifyInstance): void {
  app.get('/whoami', async (request) => {
    const actor = actorOf(request)
    return { role: actor.role, name: actor.name }
  })
}

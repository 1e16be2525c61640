import { randomUUID } from 'node:crypto'
import type { ConfigError } from '@fleetgate/schema'
import { isStoreError } from '@fleetgate/store'
import type { FastifyError, FastifyInstance } from 'fastify'
import { ServiceError } from '../service-types.ts'

/** The body of every error answer: a stable code, a sentence, and config errors where there are some. */
export interface ErrorBody {
  error: string
  message: string
  errors: ConfigError[]
}

/** Builds an {@link ErrorBody}; a 400 always lists at least one error so clients can print "path: message". */
export function errorBody(code: string, message: string, errors: ConfigError[] = []): ErrorBody {
  return { error: code, message, errors }
}

/** A 400 for input the API cannot use (malformed body, bad parameter); `path` names the offending part. */
export function badRequest(message: string, path = ''): ServiceError {
  return new ServiceError('INVALID', message, [{ path, message }])
}

/**
 * Maps every failure to a JSON answer: ServiceError to its status, client errors fastify raises
 * (body too large, unsupported media type) to theirs, store outages to 503, and anything else to a
 * 500 that names an error id found in the log (the details stay out of the answer).
 */
export function installErrorReplies(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof ServiceError) {
      const errors = err.status === 400 && err.errors.length === 0 ? [{ path: '', message: err.message }] : err.errors
      return reply.code(err.status).send(errorBody(err.code, err.message, errors))
    }
    if (isStoreError(err)) {
      request.log.warn({ err }, 'admin API: store unavailable')
      return reply.code(503).send(errorBody('STORE_UNAVAILABLE', `the config store did not answer: ${err.message}`))
    }
    const status = err.statusCode ?? 500
    if (status >= 400 && status < 500) {
      const errors = status === 400 ? [{ path: '', message: err.message }] : []
      return reply.code(status).send(errorBody(err.code ?? 'BAD_REQUEST', err.message, errors))
    }
    const id = randomUUID()
    request.log.error({ err, errorId: id }, 'admin API request failed')
    return reply.code(500).send(errorBody('INTERNAL', `internal error (error id ${id} in the control plane log)`))
  })
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorBody('NOT_FOUND', `no such route: ${request.method} ${request.url.split('?')[0]}`)),
  )
}

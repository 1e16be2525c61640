import type { ServerResponse } from 'node:http'
import type { BodyPipeline } from '../plugins/types.ts'

/**
 * Relays what a response body pipeline outputs to the client, leaving `res` open (trailers may
 * follow). `done` is called once: with no error when the output has ended (everything written
 * to `res`), with the error when a transform failed or the client went away first (the
 * pipeline is destroyed then, so no compressor or cache entry outlives the response).
 */
export function relayBody(body: BodyPipeline, res: ServerResponse, done: (err: Error | undefined) => void): void {
  let settled = false
  const settle = (err: Error | undefined) => {
    if (settled) return
    settled = true
    res.off('close', onClose)
    if (err !== undefined) body.input.destroy()
    done(err)
  }
  const onClose = () => {
    if (!body.output.readableEnded) settle(new Error('client closed the connection'))
  }
  body.output.once('end', () => settle(undefined))
  body.output.once('error', (err) => settle(err))
  res.once('close', onClose)
  body.output.pipe(res, { end: false })
}

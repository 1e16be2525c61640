// The plain-HTTP side of an ACME test: a real server answering /.well-known/acme-challenge/TOKEN the way
// the gateway does, from a NodeAcme lookup, on the port pebble validates against.
import { createServer, type Server } from 'node:http'
import { freePort } from '@fleetgate/testkit'

/** A challenge server on 127.0.0.1; `answer` may be swapped to change who answers. */
export async function startChallengeServer(): Promise<{
  port: number
  answer: (token: string) => string | undefined
  setAnswer(fn: (token: string) => string | undefined): void
  hits: number
  close(): Promise<void>
}> {
  const port = await freePort()
  let answer: (token: string) => string | undefined = () => undefined
  const state = {
    port,
    hits: 0,
    answer: (token: string) => answer(token),
    setAnswer(fn: (token: string) => string | undefined) {
      answer = fn
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
  const server: Server = createServer((req, res) => {
    state.hits++
    const token = (req.url ?? '').replace('/.well-known/acme-challenge/', '')
    const body = answer(token)
    res.writeHead(body === undefined ? 404 : 200).end(body)
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return state
}

// Server-sent events and long polling through the gateway over HTTP/1.1 and h2c: the backend
// writes one event only after the client has read the previous one through the gateway, so a
// gateway that buffered the stream would stall the test instead of passing it.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http'
import { connect as h2connect } from 'node:http2'
import type { Readable } from 'node:stream'
import { after, before, describe, test } from 'node:test'
import { freePort, type GatewayProcess, startGateway } from '@fleetgate/testkit'
import { request } from 'undici'

/** Responses the backend holds open, handed to the test as their requests arrive. */
const held: ServerResponse[] = []
const arrivals: Array<(res: ServerResponse) => void> = []
function nextHeld(): Promise<ServerResponse> {
  while (held[0]?.destroyed) held.shift()
  const ready = held.shift()
  if (ready) return Promise.resolve(ready)
  return new Promise((resolve) => arrivals.push(resolve))
}

/** Reads text from `body` until `expected` has arrived; rejects after `timeoutMs`. */
function readUntil(body: Readable, expected: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = ''
    const timer = setTimeout(() => {
      body.off('data', onData)
      reject(new Error(`"${expected.trim()}" did not arrive in ${timeoutMs} ms (got ${JSON.stringify(text)})`))
    }, timeoutMs)
    const onData = (chunk: Buffer) => {
      text += chunk.toString()
      if (!text.includes(expected)) return
      clearTimeout(timer)
      body.off('data', onData)
      body.pause()
      resolve(text)
    }
    body.on('data', onData)
    body.resume()
  })
}

describe('streaming responses through the gateway', () => {
  let backend: Server
  let gateway: GatewayProcess
  let port: number

  before(async () => {
    backend = createServer((req, res) => {
      if (req.url?.startsWith('/events')) {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
        res.flushHeaders()
      }
      const waiter = arrivals.shift()
      if (waiter) waiter(res)
      else held.push(res)
    })
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve))
    port = await freePort()
    gateway = await startGateway(`
[upstreams.stream]
addrs = ["127.0.0.1:${(backend.address() as { port: number }).port}"]
read_timeout = "10s"

[locations.stream]
upstream = "stream"
path = "/"

[servers.main]
addr = "127.0.0.1:${port}"
locations = ["stream"]
h2c = true
`)
  })

  after(async () => {
    await gateway?.stop()
    backend?.closeAllConnections()
    await new Promise((resolve) => backend?.close(resolve))
  })

  /** Sends five events, each only after the previous one was read by the client through the gateway. */
  async function eventByEvent(body: Readable): Promise<void> {
    const res = await nextHeld()
    for (let i = 1; i <= 5; i++) {
      const event = `id: ${i}\nevent: tick\ndata: event ${i}\n\n`
      res.write(event)
      const seen = await readUntil(body, event)
      assert.equal(seen, event, `event ${i} arrived alone, before the next was written`)
    }
    res.end()
  }

  test('SSE over HTTP/1.1: every event reaches the client before the next is sent', async () => {
    const response = await request(`http://127.0.0.1:${port}/events`, { headers: { accept: 'text/event-stream' } })
    assert.equal(response.statusCode, 200)
    assert.equal(response.headers['content-type'], 'text/event-stream')
    await eventByEvent(response.body)
    response.body.resume()
    await once(response.body, 'end')
  })

  test('SSE over h2c: every event reaches the client before the next is sent', async () => {
    const session = h2connect(`http://127.0.0.1:${port}`)
    try {
      const stream = session.request({ ':path': '/events', accept: 'text/event-stream' })
      const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders & { ':status': number }]
      assert.equal(headers[':status'], 200)
      assert.equal(headers['content-type'], 'text/event-stream')
      await eventByEvent(stream)
      stream.resume()
      await once(stream, 'end')
    } finally {
      session.close()
    }
  })

  test('long polling: a response held by the backend arrives as soon as it is written (HTTP/1.1 and h2c)', async () => {
    const pending = request(`http://127.0.0.1:${port}/poll`)
    let settled = false
    void pending.then(() => {
      settled = true
    })
    const res = await nextHeld()
    await new Promise((resolve) => setTimeout(resolve, 500))
    assert.equal(settled, false, 'no response before the backend answers')
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"update":1}')
    const response = await pending
    assert.equal(await response.body.text(), '{"update":1}')

    const session = h2connect(`http://127.0.0.1:${port}`)
    try {
      const stream = session.request({ ':path': '/poll' })
      const held2 = await nextHeld()
      held2.writeHead(200).write('partial ')
      const [headers] = (await once(stream, 'response')) as [Record<string, string | number>]
      assert.equal(headers[':status'], 200)
      assert.equal(await readUntil(stream, 'partial '), 'partial ')
      held2.end('done')
      assert.equal(await readUntil(stream, 'done'), 'done')
    } finally {
      session.close()
    }
  })
})

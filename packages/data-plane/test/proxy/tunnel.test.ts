// The byte tunnel behind proxied WebSockets, on real loopback sockets: both directions, a
// half-close passed on without cutting the reply, an abrupt close taking the other side
// down, and the idle timeout. Plus the RFC 6455 accept computation.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { after, before, test } from 'node:test'
import { openTunnel, type TunnelEnd } from '../../src/proxy/tunnel.ts'
import { websocketAccept } from '../../src/proxy/websocket-handshake.ts'

let server: Server
const accepted: Socket[] = []
const waiting: Array<(s: Socket) => void> = []

before(async () => {
  server = createServer({ allowHalfOpen: true }, (s) => {
    const w = waiting.shift()
    if (w) w(s)
    else accepted.push(s)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
})

after(() => new Promise<void>((resolve) => server.close(() => resolve())))

/** A connected pair: [the outside end, the end the tunnel gets]. */
async function pair(): Promise<[Socket, Socket]> {
  const inner = new Promise<Socket>((resolve) => {
    const ready = accepted.shift()
    if (ready) resolve(ready)
    else waiting.push(resolve)
  })
  const outer = connect({ port: (server.address() as { port: number }).port, host: '127.0.0.1', allowHalfOpen: true })
  await once(outer, 'connect')
  return [outer, await inner]
}

const side = (s: Socket) => ({ input: s, output: s, stream: s })

async function tunnel(idleMs = 0): Promise<{ client: Socket; upstream: Socket; ended: Promise<TunnelEnd> }> {
  const [client, clientInner] = await pair()
  const [upstream, upstreamInner] = await pair()
  const ended = new Promise<TunnelEnd>((resolve) => openTunnel(side(clientInner), side(upstreamInner), idleMs, resolve))
  return { client, upstream, ended }
}

test('relays bytes both ways and counts them', async () => {
  const { client, upstream, ended } = await tunnel()
  client.write('hello')
  assert.equal(String((await once(upstream, 'data'))[0]), 'hello')
  upstream.write('world!')
  assert.equal(String((await once(client, 'data'))[0]), 'world!')
  // The client's FIN reaches the upstream, whose own FIN then ends the tunnel.
  client.end()
  await once(upstream, 'end')
  upstream.end()
  const end = await ended
  assert.deepEqual([end.toUpstream, end.toClient, end.reason], [5, 6, 'closed'])
  client.destroy()
  upstream.destroy()
})

test('passes a half-close on and still relays the reply', async () => {
  const { client, upstream, ended } = await tunnel()
  client.end('bye')
  upstream.setEncoding('utf8')
  let got = ''
  upstream.on('data', (c: string) => {
    got += c
  })
  await once(upstream, 'end')
  assert.equal(got, 'bye')
  upstream.end('last words')
  client.setEncoding('utf8')
  let reply = ''
  client.on('data', (c: string) => {
    reply += c
  })
  await once(client, 'end')
  assert.equal(reply, 'last words')
  assert.equal((await ended).reason, 'closed')
  client.destroy()
  upstream.destroy()
})

test('an abrupt close of one side closes the other', async () => {
  const { client, upstream, ended } = await tunnel()
  const upstreamEnded = once(upstream, 'end')
  client.resetAndDestroy()
  await upstreamEnded
  assert.match((await ended).reason, /^(closed|error)$/)
  upstream.destroy()
})

test('closes a tunnel idle for idleMs; traffic keeps it open', async () => {
  const { client, upstream, ended } = await tunnel(300)
  upstream.resume()
  for (let i = 0; i < 4; i++) {
    await new Promise((resolve) => setTimeout(resolve, 150))
    client.write('.')
  }
  assert.equal(client.destroyed, false)
  const started = Date.now()
  client.resume()
  await once(client, 'end')
  assert.ok(Date.now() - started >= 200, 'closed only after the idle time')
  assert.equal((await ended).reason, 'idle')
  client.destroy()
  upstream.destroy()
})

test('computes Sec-WebSocket-Accept as RFC 6455 section 1.3 shows', () => {
  assert.equal(websocketAccept('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=')
})

// A gRPC server (@grpc/grpc-js) whose messages are raw bytes, so clients in any language or
// framing (Python's grpcio, gRPC-web) can call it without generated code. Service fixture.Raw:
//   Unary(text)            -> "echo:text", header x-served-by, trailer x-trailer: done
//   Stream("word n")       -> n messages "word 0".."word n-1"; "word n hold" sends the first
//                             one, then waits for release() before the rest
//   Fail("code message")   -> an error with that status code and message
import * as grpc from '@grpc/grpc-js'

const raw = {
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => b,
}

const service: grpc.ServiceDefinition = {
  Unary: { path: '/fixture.Raw/Unary', requestStream: false, responseStream: false, ...raw },
  Stream: { path: '/fixture.Raw/Stream', requestStream: false, responseStream: true, ...raw },
  Fail: { path: '/fixture.Raw/Fail', requestStream: false, responseStream: false, ...raw },
}

/** A running fixture.Raw server. */
export interface RawGrpcServer {
  readonly port: number
  /** Request metadata of every call, in arrival order. */
  readonly seen: Array<{ method: string; metadata: Record<string, unknown> }>
  /** Lets held streams ("word n hold") send the rest of their messages. */
  release(): void
  /** Drops every connection at once (held streams included), as a crashed backend would. */
  kill(): void
  stop(): Promise<void>
}

/** Starts a fixture.Raw server on 127.0.0.1 (plain h2c), named `name` in x-served-by. */
export async function startRawGrpcServer(name: string): Promise<RawGrpcServer> {
  const server = new grpc.Server()
  const seen: RawGrpcServer['seen'] = []
  let releaseHeld: () => void = () => {}
  let held = new Promise<void>((resolve) => {
    releaseHeld = resolve
  })
  const note = (method: string, call: { metadata: grpc.Metadata }) => seen.push({ method, metadata: call.metadata.getMap() })

  server.addService(service, {
    Unary(call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) {
      note('Unary', call)
      const header = new grpc.Metadata()
      header.set('x-served-by', name)
      call.sendMetadata(header)
      const trailer = new grpc.Metadata()
      trailer.set('x-trailer', 'done')
      callback(null, Buffer.concat([Buffer.from('echo:'), call.request]), trailer)
    },
    async Stream(call: grpc.ServerWritableStream<Buffer, Buffer>) {
      note('Stream', call)
      const [word = '', n = '0', hold] = call.request.toString('utf8').split(' ')
      for (let i = 0; i < Number(n); i++) {
        if (call.cancelled) return
        call.write(Buffer.from(`${word} ${i}`))
        if (i === 0 && hold === 'hold') await held
      }
      call.end()
    },
    Fail(call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) {
      note('Fail', call)
      const text = call.request.toString('utf8')
      const space = text.indexOf(' ')
      callback({ code: Number(text.slice(0, space)), details: text.slice(space + 1) })
    },
  })

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  )
  return {
    port,
    seen,
    release() {
      releaseHeld()
      held = new Promise<void>((resolve) => {
        releaseHeld = resolve
      })
    },
    kill: () => server.forceShutdown(),
    stop: () =>
      new Promise<void>((resolve) => {
        releaseHeld()
        server.tryShutdown(() => resolve())
        setTimeout(() => {
          server.forceShutdown()
          resolve()
        }, 2000).unref()
      }),
  }
}

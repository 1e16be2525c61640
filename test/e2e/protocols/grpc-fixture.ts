// A grpc-js Echo server and a promise-based client for the gRPC protocol tests.
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'

export interface Msg {
  text: string
  count: number
  blob?: Buffer
}

/** What the server saw of one call. */
export interface SeenCall {
  text: string
  metadata: Record<string, string>
  /** Milliseconds left before the call's deadline when it arrived; undefined without one. */
  deadlineMs: number | undefined
}

export interface EchoServer {
  readonly port: number
  readonly requests: SeenCall[]
  /** Calls the server saw cancelled (client cancel or deadline). */
  readonly cancelled: number
  stop(): Promise<void>
}

const PROTO = new URL('./fixtures/echo.proto', import.meta.url).pathname
const definition = protoLoader.loadSync(PROTO, { keepCase: true, longs: Number, defaults: true })
const echoService = (grpc.loadPackageDefinition(definition) as unknown as { echo: { Echo: { service: grpc.ServiceDefinition } } }).echo.Echo
  .service

const NON_ASCII = 'données invalides ✗ 名前'

/** Starts an Echo server named `name` on a free loopback port (plain h2, or TLS with `tls`). */
export async function startEchoServer(name: string, tls?: { certPem: string; keyPem: string }): Promise<EchoServer> {
  const requests: SeenCall[] = []
  let cancelled = 0
  const seen = (call: { metadata: grpc.Metadata; getDeadline(): grpc.Deadline }, text: string) => {
    const metadata: Record<string, string> = {}
    for (const [k, v] of Object.entries(call.metadata.getMap())) metadata[k] = Buffer.isBuffer(v) ? v.toString('hex') : String(v)
    const deadline = call.getDeadline()
    const ms = (deadline instanceof Date ? deadline.getTime() : deadline) - Date.now()
    requests.push({ text, metadata, deadlineMs: Number.isFinite(ms) ? ms : undefined })
  }
  const served = () => {
    const md = new grpc.Metadata()
    md.set('x-served-by', name)
    return md
  }
  const server = new grpc.Server()
  server.addService(echoService, {
    Unary(call: grpc.ServerUnaryCall<Msg, Msg>, callback: grpc.sendUnaryData<Msg>) {
      const { text, count } = call.request
      seen(call, text)
      call.on('cancelled', () => cancelled++)
      if (text === 'fail') {
        callback({ code: count, details: NON_ASCII })
        return
      }
      const reply = () => {
        call.sendMetadata(served())
        const trailers = new grpc.Metadata()
        trailers.set('x-trailer', 'done')
        trailers.set('x-trailer-bin', Buffer.from([9, 8, 7, 0]))
        const blob = call.metadata.get('x-blob-bin')[0]
        callback(null, { text: `echo:${text}`, count, blob: Buffer.isBuffer(blob) ? blob : Buffer.alloc(0) }, trailers)
      }
      if (text === 'slow') setTimeout(() => !call.cancelled && reply(), count)
      else reply()
    },
    ServerStream(call: grpc.ServerWritableStream<Msg, Msg>) {
      const { text, count } = call.request
      seen(call, text)
      call.sendMetadata(served())
      let i = 0
      call.on('cancelled', () => cancelled++)
      const next = () => {
        if (call.cancelled) return
        if (i >= count) {
          call.end()
          return
        }
        call.write({ text: `${text} ${i++}`, count: i })
        // An "endless" stream paces itself so a cancel lands mid-stream.
        if (count > 1000) setTimeout(next, 10)
        else next()
      }
      next()
    },
    ClientStream(call: grpc.ServerReadableStream<Msg, Msg>, callback: grpc.sendUnaryData<Msg>) {
      seen(call, 'client-stream')
      let sum = 0
      let n = 0
      call.on('data', (m: Msg) => {
        sum += m.count
        n++
      })
      call.on('end', () => callback(null, { text: `received ${n}`, count: sum }))
    },
    Bidi(call: grpc.ServerDuplexStream<Msg, Msg>) {
      seen(call, 'bidi')
      call.sendMetadata(served())
      call.on('data', (m: Msg) => call.write({ text: `echo:${m.text}`, count: m.count }))
      call.on('end', () => call.end())
    },
  })
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      '127.0.0.1:0',
      tls === undefined
        ? grpc.ServerCredentials.createInsecure()
        : grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(tls.certPem), private_key: Buffer.from(tls.keyPem) }]),
      (err, p) => (err ? reject(err) : resolve(p)),
    ),
  )
  return {
    port,
    requests,
    get cancelled() {
      return cancelled
    },
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  }
}

export interface EchoClient {
  /** The address the client connects to. */
  readonly target: string
  unary(msg: Msg, options?: { deadlineMs?: number }): Promise<Msg>
  unaryFull(msg: Msg, md: grpc.Metadata): Promise<{ reply: Msg; headers: grpc.Metadata; trailers: grpc.Metadata }>
  serverStream(msg: Msg): Promise<Msg[]>
  /** Reads `n` messages of a server stream, then cancels; resolves with how many arrived. */
  cancelAfter(msg: Msg, n: number): Promise<number>
  clientStream(msgs: Msg[]): Promise<Msg>
  /** Sends each text only after the previous reply arrived; resolves with the replies' texts. */
  pingPong(texts: string[]): Promise<string[]>
  close(): void
}

// biome-ignore lint/suspicious/noExplicitAny: grpc-js generic clients are untyped
type Method = (...args: any[]) => any
type AnyClient = grpc.Client & { Unary: Method; ServerStream: Method; ClientStream: Method; Bidi: Method }

/** A client of the Echo service at `target`; `service` renames the service path (for routing tests). */
export function echoClient(
  target: string,
  credentials: grpc.ChannelCredentials,
  service = 'echo.Echo',
  options: grpc.ChannelOptions = {},
): EchoClient {
  const renamed: Record<string, grpc.MethodDefinition<unknown, unknown>> = {}
  for (const [method, def] of Object.entries(echoService))
    renamed[method] = { ...def, path: def.path.replace('/echo.Echo/', `/${service}/`) }
  const Ctor = grpc.makeGenericClientConstructor(renamed as grpc.ServiceDefinition, service)
  const c = new Ctor(target, credentials, options) as unknown as AnyClient
  const deadline = (ms: number | undefined) => (ms === undefined ? {} : { deadline: Date.now() + ms })
  return {
    target,
    unary: (msg, options = {}) =>
      new Promise((resolve, reject) =>
        c.Unary(msg, new grpc.Metadata(), deadline(options.deadlineMs), (err: grpc.ServiceError | null, reply: Msg) =>
          err ? reject(err) : resolve(reply),
        ),
      ),
    unaryFull: (msg, md) =>
      new Promise((resolve, reject) => {
        let headers = new grpc.Metadata()
        let trailers = new grpc.Metadata()
        const call = c.Unary(msg, md, (err: grpc.ServiceError | null, reply: Msg) =>
          err ? reject(err) : setImmediate(() => resolve({ reply, headers, trailers })),
        ) as grpc.ClientUnaryCall
        call.on('metadata', (m: grpc.Metadata) => {
          headers = m
        })
        call.on('status', (s: grpc.StatusObject) => {
          trailers = s.metadata
        })
      }),
    serverStream: (msg) =>
      new Promise((resolve, reject) => {
        const out: Msg[] = []
        const call = c.ServerStream(msg) as grpc.ClientReadableStream<Msg>
        call.on('data', (m: Msg) => out.push(m))
        call.on('error', reject)
        call.on('end', () => resolve(out))
      }),
    cancelAfter: (msg, n) =>
      new Promise((resolve, reject) => {
        let got = 0
        const call = c.ServerStream(msg) as grpc.ClientReadableStream<Msg>
        call.on('data', () => {
          if (++got === n) call.cancel()
        })
        call.on('error', (err: grpc.ServiceError) => (err.code === grpc.status.CANCELLED ? resolve(got) : reject(err)))
        call.on('end', () => resolve(got))
      }),
    clientStream: (msgs) =>
      new Promise((resolve, reject) => {
        const call = c.ClientStream((err: grpc.ServiceError | null, reply: Msg) =>
          err ? reject(err) : resolve(reply),
        ) as grpc.ClientWritableStream<Msg>
        for (const m of msgs) call.write(m)
        call.end()
      }),
    pingPong: (texts) =>
      new Promise((resolve, reject) => {
        const replies: string[] = []
        const call = c.Bidi() as grpc.ClientDuplexStream<Msg, Msg>
        call.on('data', (m: Msg) => {
          replies.push(m.text)
          if (replies.length < texts.length) call.write({ text: texts[replies.length] as string, count: replies.length })
          else call.end()
        })
        call.on('error', reject)
        call.on('end', () => resolve(replies))
        call.write({ text: texts[0] as string, count: 0 })
      }),
    close: () => c.close(),
  }
}

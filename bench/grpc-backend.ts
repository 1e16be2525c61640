// The gRPC backend of the protocol benchmark: a @grpc/grpc-js server (plain h2c) with one raw
// method, /bench.Echo/Unary, that answers every request with its own bytes. Prints
// "listening PORT" once bound; stops on SIGTERM.
// Run: node_modules/.bin/node bench/grpc-backend.ts
import * as grpc from '@grpc/grpc-js'

const raw = (b: Buffer) => b
const server = new grpc.Server()
server.addService(
  {
    Unary: {
      path: '/bench.Echo/Unary',
      requestStream: false,
      responseStream: false,
      requestSerialize: raw,
      requestDeserialize: raw,
      responseSerialize: raw,
      responseDeserialize: raw,
    },
  },
  {
    Unary(call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) {
      callback(null, call.request)
    },
  },
)
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) {
    process.stderr.write(`${err.message}\n`)
    process.exit(1)
  }
  process.stdout.write(`listening ${port}\n`)
})
process.once('SIGTERM', () => {
  server.forceShutdown()
  process.exit(0)
})

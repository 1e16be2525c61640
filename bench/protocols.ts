// Protocol benchmark: HTTP/2 and gRPC through the gateway, under h2load (nghttp2-client).
//   h2c -> gateway -> HTTP/1.1 nginx backend, TLS h2 -> gateway -> the same backend, and a
//   gRPC unary call to a @grpc/grpc-js backend directly vs through the gateway (h2c both legs).
// Run from the repo root: node_modules/.bin/node bench/protocols.ts
// Needs h2load, nginx, taskset and openssl (Debian: nghttp2-client nginx-light util-linux openssl).
// Knobs: BENCH_DURATION (s, default 10), BENCH_WARMUP (s, 3), BENCH_CONNECTIONS (10), BENCH_STREAMS (10).
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { createTestCa, freePort } from '@fleetgate/testkit'
import * as grpc from '@grpc/grpc-js'
import { type H2loadResult, runH2load } from './h2load.ts'
import { startBackend } from './nginx.ts'
import { findTools, pinSelf, planCpus, toolVersion } from './preflight.ts'
import { type BenchProcess, startProcess, stopAll, stopEverythingOnExit } from './processes.ts'
import { waitUntilServing } from './readiness.ts'
import { startRssSampler } from './rss.ts'

const repoRoot = new URL('..', import.meta.url).pathname.replace(/\/$/, '')
const durationS = Number(process.env.BENCH_DURATION ?? 10)
const warmupS = Number(process.env.BENCH_WARMUP ?? 3)
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10)
const streams = Number(process.env.BENCH_STREAMS ?? 10)
/** The gRPC request: one uncompressed message of 64 bytes (the backend echoes it). */
const GRPC_MESSAGE = Buffer.alloc(64, 0x61)
const GRPC_FRAME = Buffer.concat([Buffer.from([0, 0, 0, 0, GRPC_MESSAGE.length]), GRPC_MESSAGE])
const GRPC_HEADERS = ['content-type: application/grpc', 'te: trailers']

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`)
}

function findH2load(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter).concat('/usr/bin')) {
    try {
      accessSync(join(dir, 'h2load'), constants.X_OK)
      return join(dir, 'h2load')
    } catch {}
  }
  throw new Error('missing h2load: install it with\n  sudo apt-get install -y nghttp2-client')
}

/** Starts the gRPC backend pinned to `cpus` and resolves with its port. */
async function startGrpcBackend(taskset: string, cpus: string): Promise<{ process: BenchProcess; port: number }> {
  const node = join(repoRoot, 'node_modules/node/bin/node')
  const proc = startProcess('grpc-backend', taskset, ['-c', cpus, node, 'bench/grpc-backend.ts'], { cwd: repoRoot })
  for (let waited = 0; waited < 20_000; waited += 50) {
    const m = /listening (\d+)/.exec(proc.output())
    if (m) return { process: proc, port: Number(m[1]) }
    if (proc.hasExited()) break
    await sleep(50)
  }
  throw new Error(`the gRPC backend did not start:\n${proc.output()}`)
}

/** One call through `target` with @grpc/grpc-js, so a broken path fails loudly before any load. */
async function checkGrpc(target: string): Promise<void> {
  const client = new grpc.Client(target, grpc.credentials.createInsecure())
  try {
    const reply = await new Promise<Buffer>((resolve, reject) =>
      client.makeUnaryRequest(
        '/bench.Echo/Unary',
        (b: Buffer) => b,
        (b: Buffer) => b,
        GRPC_MESSAGE,
        { deadline: Date.now() + 5000 },
        (err, value) => (err ? reject(err) : resolve(value as Buffer)),
      ),
    )
    if (!reply.equals(GRPC_MESSAGE)) throw new Error(`gRPC check through ${target}: unexpected reply`)
  } finally {
    client.close()
  }
}

function gatewayConfig(
  h2cPort: number,
  tlsPort: number,
  backendPort: number,
  grpcPort: number,
  cert: { certPath: string; keyPath: string },
) {
  return `[basic]
name = "bench-protocols"
log_level = "warn"
grace_period = "1s"

[upstreams.api]
addrs = ["127.0.0.1:${backendPort}"]

[upstreams.grpc]
addrs = ["127.0.0.1:${grpcPort}"]
alpn = "h2"

[locations.api]
upstream = "api"
path = "/api/v1"

[locations.grpc]
upstream = "grpc"
path = "/bench.Echo/"

[servers.h2c]
addr = "127.0.0.1:${h2cPort}"
h2c = true
locations = ["api", "grpc"]

[servers.tls]
addr = "127.0.0.1:${tlsPort}"
tls_cert = "${cert.certPath}"
tls_key = "${cert.keyPath}"
enable_http2 = true
locations = ["api"]
`
}

interface Row {
  name: string
  result: H2loadResult
  /** Gateway peak RSS during the case (MB); undefined when the gateway is not in the path. */
  peakRssMb: number | undefined
  /**
   * Response body bytes each request must bring at least (gRPC: the echoed frame; a call that
   * failed gets none); 0 = not checked. With -D, h2load also counts the bytes of calls still in
   * flight when the clock stops, so the total may be a little higher.
   */
  expectBytes: number
}

function renderTable(rows: Row[]): string {
  const head = '| case | req/s | mean (ms) | max (ms) | succeeded | failed+errored+timeout | gateway peak RSS (MB) |'
  const lines = rows.map(({ name, result: r, peakRssMb }) => {
    // With -D, "failed" also counts the calls still in flight when the clock stopped (up to c x m).
    const bad = r.failed + r.errored + r.timeout
    return `| ${name} | ${Math.round(r.requestsPerSec).toLocaleString('en-US')} | ${r.meanMs.toFixed(2)} | ${r.maxMs.toFixed(2)} | ${r.succeeded.toLocaleString('en-US')} | ${bad} | ${peakRssMb === undefined ? '' : peakRssMb.toFixed(1)} |`
  })
  return [head, '| --- | ---: | ---: | ---: | ---: | ---: | ---: |', ...lines].join('\n')
}

async function main(): Promise<number> {
  stopEverythingOnExit()
  const tools = findTools()
  const h2load = findH2load()
  const cpus = planCpus()
  if (cpus.warning) log(`warning: ${cpus.warning}`)
  pinSelf(tools, cpus.load)
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-bench-h2-'))
  const ca = createTestCa()
  try {
    const backend = await startBackend(tools, join(dir, 'nginx-backend'), cpus.load)
    const grpcBackend = await startGrpcBackend(tools.taskset, cpus.load)
    const [h2cPort, tlsPort] = await Promise.all([freePort(), freePort()])
    const cert = ca.issue({ dns: ['bench.test'], ips: ['127.0.0.1'] })
    const configPath = join(dir, 'gateway.toml')
    writeFileSync(configPath, gatewayConfig(h2cPort, tlsPort, backend.port, grpcBackend.port, cert))
    writeFileSync(join(dir, 'grpc-request.bin'), GRPC_FRAME)
    const fleetgate = join(repoRoot, 'node_modules/.bin/fleetgate')
    const gateway = startProcess('fleetgate', tools.taskset, ['-c', cpus.proxy, fleetgate, 'proxy', '--config', configPath], {
      cwd: repoRoot,
    })
    await waitUntilServing(gateway, `http://127.0.0.1:${h2cPort}/api/v1/items`, 20_000)
    await checkGrpc(`127.0.0.1:${grpcBackend.port}`)
    await checkGrpc(`127.0.0.1:${h2cPort}`)

    const grpcRun = { dataPath: join(dir, 'grpc-request.bin'), headers: GRPC_HEADERS }
    const cases: Array<{ name: string; url: string; viaGateway: boolean; expectBytes: number; extra?: typeof grpcRun }> = [
      { name: 'h2c → gateway → HTTP/1.1 backend', url: `http://127.0.0.1:${h2cPort}/api/v1/items`, viaGateway: true, expectBytes: 0 },
      { name: 'TLS h2 → gateway → HTTP/1.1 backend', url: `https://127.0.0.1:${tlsPort}/api/v1/items`, viaGateway: true, expectBytes: 0 },
      {
        name: 'gRPC unary, direct to grpc-js',
        url: `http://127.0.0.1:${grpcBackend.port}/bench.Echo/Unary`,
        viaGateway: false,
        expectBytes: GRPC_FRAME.length,
        extra: grpcRun,
      },
      {
        name: 'gRPC unary, h2c → gateway → grpc-js',
        url: `http://127.0.0.1:${h2cPort}/bench.Echo/Unary`,
        viaGateway: true,
        expectBytes: GRPC_FRAME.length,
        extra: grpcRun,
      },
    ]
    const rows: Row[] = []
    for (const c of cases) {
      log(`${c.name}: ${warmupS} s warm-up + ${durationS} s`)
      const sampler = c.viaGateway ? startRssSampler(gateway.pid, 200) : undefined
      const result = await runH2load(h2load, tools.taskset, {
        url: c.url,
        cpus: cpus.load,
        connections,
        streams,
        durationS,
        warmupS,
        ...c.extra,
      })
      const peak = sampler?.stop()
      if (c.expectBytes > 0 && result.dataBytes < result.succeeded * c.expectBytes) {
        throw new Error(`${c.name}: ${result.dataBytes} body bytes for ${result.succeeded} calls: some calls got no reply message`)
      }
      log(`${c.name}: ${Math.round(result.requestsPerSec)} req/s, mean ${result.meanMs.toFixed(2)} ms`)
      rows.push({ name: c.name, result, peakRssMb: peak === undefined ? undefined : peak / 1024, expectBytes: c.expectBytes })
    }
    const meta = `${new Date().toISOString().slice(0, 10)}, ${toolVersion(h2load, ['--version'])}, Node ${process.version}; h2load -t1 -c${connections} -m${streams}, ${durationS} s after ${warmupS} s warm-up; gateway on CPU ${cpus.proxy}, h2load and backends on CPU ${cpus.load}`
    const markdown = `${meta}\n\n${renderTable(rows)}\n`
    process.stdout.write(`\n${markdown}`)
    mkdirSync(join(repoRoot, 'bench/results'), { recursive: true })
    writeFileSync(join(repoRoot, 'bench/results/protocols.md'), markdown)
    return 0
  } finally {
    await stopAll()
    ca.cleanup()
    rmSync(dir, { recursive: true, force: true })
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`[bench] ${err.message}\n`)
    void stopAll().finally(() => process.exit(1))
  },
)

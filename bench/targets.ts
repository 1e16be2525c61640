import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort } from '@fleetgate/testkit'
import { benchJwt, GATEWAY_PLUGINS_TEMPLATE, renderGatewayConfig } from './gateway-config.ts'
import { renderNginxConf, renderProxyHttp, startNginx } from './nginx.ts'
import { startOtlpSink } from './otlp-sink.ts'
import type { CpuPlan, Tools } from './preflight.ts'
import { type BenchProcess, startProcess } from './processes.ts'
import { MEASURED_PATH } from './settings.ts'

/** What every target needs to start: tools, CPU plan, a private temp folder, the backend. */
export interface TargetContext {
  tools: Tools
  cpus: CpuPlan
  /** Temp folder for this run's generated files. */
  dir: string
  repoRoot: string
  backendPort: number
}

/** A proxy under test, started and serving `url` (readiness is checked by the caller). */
export interface StartedTarget {
  process: BenchProcess
  url: string
}

/** One proxy to measure. */
export interface Target {
  name: string
  /** How it is run, for the report. */
  describe: string
  start(ctx: TargetContext): Promise<StartedTarget>
}

function repoBin(ctx: TargetContext, name: string): string {
  const path = join(ctx.repoRoot, 'node_modules/.bin', name)
  if (!existsSync(path)) throw new Error(`${path} is missing: run the setup (npx -y pnpm@10 install) first`)
  return path
}

/**
 * Sampling ratio of the tracing target: 1% is the figure the issue's "under 5% at 1%" is about;
 * BENCH_TRACING_RATIO sets another (1 shows what one sampled request costs).
 */
export const TRACING_RATIO = tracingRatio(process.env.BENCH_TRACING_RATIO)

function tracingRatio(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 0.01
  const ratio = Number(raw)
  if (!(ratio >= 0 && ratio <= 1)) throw new Error(`BENCH_TRACING_RATIO must be a number from 0 to 1, got "${raw}"`)
  return ratio
}

/** What a fleetgate target adds to gateway.toml. */
interface FleetgateVariant {
  workers?: number
  /** gateway-plugins.toml: request_id + jwt + limit + cors on the measured location. */
  plugins?: boolean
  /** `[tracing]` to a local OTLP sink at this sampling ratio (TRACING_RATIO for the tracing target). */
  tracing?: number
  /** A `combined` access log to a file and the status listener serving /metrics. */
  logs?: boolean
  /** NODE_OPTIONS for the gateway's Node (V8 heap flags, say). */
  nodeOptions?: string
  /** `headers_add` on the measured location: one more upstream request header. */
  headersAdd?: string
}

function fleetgate(name: string, variant: FleetgateVariant = {}): Target {
  const { workers = 1, plugins = false, tracing, logs = false, nodeOptions, headersAdd } = variant
  const flags = workers > 1 ? ['--workers', String(workers)] : []
  const file =
    (plugins ? 'gateway-plugins.toml' : 'gateway.toml') +
    (tracing !== undefined ? ` + [tracing] sampling_ratio = ${tracing}` : '') +
    (logs ? ' + access_log = "combined" to a file, [metrics] addr' : '') +
    (headersAdd !== undefined ? ` + headers_add = "${headersAdd}" on the measured location` : '')
  // The plugin variant's jwt plugin reads the token from the query, so wrk needs no extra header.
  const path = plugins ? `${MEASURED_PATH}?token=${benchJwt()}` : MEASURED_PATH
  return {
    name,
    describe:
      `${nodeOptions === undefined ? '' : `NODE_OPTIONS=${nodeOptions} `}fleetgate proxy --config ${file} ${flags.join(' ')}`.trim(),
    async start(ctx) {
      const port = await freePort()
      const config = join(ctx.dir, `${name.replace(/\W+/g, '-')}-${port}.toml`)
      const values = { LISTEN: `127.0.0.1:${port}`, BACKEND: `127.0.0.1:${ctx.backendPort}` }
      let text = plugins ? renderGatewayConfig(values, GATEWAY_PLUGINS_TEMPLATE) : renderGatewayConfig(values)
      // The measured location's last key is its methods: the header edit goes after them.
      if (headersAdd !== undefined) text = text.replace('methods = ["GET", "POST"]\n', `$&headers_add = [${JSON.stringify(headersAdd)}]\n`)
      // Spans go to a local OTLP/HTTP sink that drops them.
      if (tracing !== undefined) text += `\n[tracing]\nendpoint = "${(await startOtlpSink()).url}"\nsampling_ratio = ${tracing}\n`
      if (logs) {
        // The server table is the last one in the template: its keys can be appended.
        text += `access_log = "combined"\naccess_log_path = ${JSON.stringify(join(ctx.dir, `${name}-${port}-access.log`))}\n`
        text += `\n[metrics]\naddr = "127.0.0.1:${await freePort()}"\n`
      }
      writeFileSync(config, text)
      // Several workers share the listener by reusePort; on this layout they can use both cores.
      const cpus = workers > 1 ? ctx.cpus.both : ctx.cpus.proxy
      const args = ['-c', cpus, repoBin(ctx, 'fleetgate'), 'proxy', '--config', config, ...flags]
      const env = nodeOptions === undefined ? undefined : { NODE_OPTIONS: nodeOptions }
      const process = startProcess(name, ctx.tools.taskset, args, { cwd: ctx.repoRoot, env })
      return { process, url: `http://127.0.0.1:${port}${path}` }
    },
  }
}

const undiciMinimal: Target = {
  name: 'undici-minimal',
  describe: 'bench/minimal-proxy.ts: node:http + undici Pool (128 connections), no routing',
  async start(ctx) {
    const port = await freePort()
    const script = join(ctx.repoRoot, 'bench/minimal-proxy.ts')
    const args = ['-c', ctx.cpus.proxy, repoBin(ctx, 'node'), script, String(port), `http://127.0.0.1:${ctx.backendPort}`]
    const process = startProcess('undici-minimal', ctx.tools.taskset, args, { cwd: ctx.repoRoot })
    return { process, url: `http://127.0.0.1:${port}${MEASURED_PATH}` }
  },
}

const nginxProxy: Target = {
  name: 'nginx-proxy',
  describe: 'nginx proxy_pass, HTTP/1.1 upstream keepalive 128, 1 worker',
  async start(ctx) {
    const port = await freePort()
    const dir = join(ctx.dir, 'nginx-proxy')
    const conf = renderNginxConf(ctx.tools, dir, renderProxyHttp(port, ctx.backendPort))
    const url = `http://127.0.0.1:${port}${MEASURED_PATH}`
    const process = await startNginx('nginx-proxy', ctx.tools, dir, conf, ctx.cpus.proxy, url)
    return { process, url }
  },
}

/** An unsampled W3C traceparent value (the length of the one tracing sends upstream). */
const SAMPLE_TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00'

/** The baseline every other target is compared with. */
export const BASELINE = 'undici-minimal'

/** Every target in run order; the multi-worker gateway is opt-in because its flag may not exist yet. */
export function allTargets(): { target: Target; optIn?: string }[] {
  return [
    { target: fleetgate('fleetgate') },
    { target: fleetgate('fleetgate-plugins', { plugins: true }) },
    { target: fleetgate('fleetgate-tracing', { tracing: TRACING_RATIO }) },
    // Tracing on, nothing sampled: what an unsampled request costs (ab.ts against fleetgate-tracing).
    { target: fleetgate('fleetgate-tracing-0', { tracing: 0 }), optIn: 'BENCH_TARGETS=fleetgate-tracing-0' },
    { target: fleetgate('fleetgate-logs', { logs: true }) },
    {
      target: fleetgate('fleetgate-hdr-tp', { headersAdd: `traceparent:00-${'4bf92f3577b34da6a3ce929d0e0e4736'}-00f067aa0ba902b7-00` }),
      optIn: 'BENCH_TARGETS=fleetgate-hdr-tp',
    },
    {
      target: fleetgate('fleetgate-hdr-x', { headersAdd: `x-tp:${SAMPLE_TRACEPARENT}` }),
      optIn: 'BENCH_TARGETS=fleetgate-hdr-x',
    },
    // The plain gateway with V8's young generation capped at 32 MB (two 16 MB semi-spaces; V8 grows it to 64 MB under wrk).
    {
      target: fleetgate('fleetgate-semi16', { nodeOptions: '--max-semi-space-size=16' }),
      optIn: 'BENCH_TARGETS=fleetgate-semi16',
    },
    { target: undiciMinimal },
    { target: nginxProxy },
    { target: fleetgate('fleetgate --workers 2', { workers: 2 }), optIn: 'BENCH_WORKERS=1' },
  ]
}

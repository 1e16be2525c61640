// A whole Fleetgate fleet on loopback, for local trials and tests, without Docker:
//
//   node_modules/.bin/node scripts/fleet-up.ts [--nodes N] [--config FILE.toml] [--cluster NAME]
//   npx -y pnpm@10 fleet -- --nodes 3 --config examples/quickstart.toml
//
// Starts etcd (Debian's etcd-server, /usr/bin/etcd) on free 127.0.0.1 ports with a temp data dir,
// `fleetgate control-plane` and N `fleetgate proxy --etcd` data planes (each on its own ports, the
// config's `[servers.main]` moved to the node's port with --listen), applies FILE when given, prints
// the URLs, the admin token and every PID, then runs until Ctrl-C or SIGTERM and stops every
// process it started, by PID. The last line printed once everything is up is "fleet ready".
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { startFleet, type TestFleet } from '@fleetgate/testkit'

const USAGE = 'usage: node scripts/fleet-up.ts [--nodes N] [--config FILE.toml] [--cluster NAME]\n'

/** What the command line asked for. */
interface FleetUpOptions {
  nodes: number
  config: string | undefined
  cluster: string
}

function parseOptions(argv: string[]): FleetUpOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      nodes: { type: 'string', short: 'n', default: '2' },
      config: { type: 'string', short: 'c' },
      cluster: { type: 'string', default: 'local' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  })
  if (values.help) {
    process.stdout.write(USAGE)
    process.exit(0)
  }
  const nodes = Number(values.nodes)
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 32) throw new Error(`--nodes must be 1..32, got "${values.nodes}"`)
  return { nodes, config: values.config, cluster: values.cluster }
}

/** PUTs the TOML file as the whole desired config and resolves with the generation it published. */
async function applyConfig(fleet: TestFleet, path: string): Promise<number> {
  const toml = await readFile(path, 'utf8')
  const answer = await fleet.api('PUT', '/config', toml, { 'content-type': 'application/toml' })
  if (answer.status !== 200) throw new Error(`applying ${path} failed (${answer.status}): ${JSON.stringify(answer.body)}`)
  return answer.body.generation as number
}

/** Every PID the fleet runs now: etcd, the control plane, then the nodes. */
function fleetPids(fleet: TestFleet): number[] {
  return [fleet.etcd.process.pid, fleet.controlPlane.pid, ...fleet.nodes.map((n) => n.process.pid)]
}

function describe(fleet: TestFleet, generation: number | undefined): string {
  const lines = [
    `fleetgate fleet up: cluster "${fleet.cluster}", ${fleet.nodes.length} data plane(s)`,
    `etcd ${fleet.etcd.endpoint}`,
    `control-plane ${fleet.adminUrl}`,
    `admin-token ${fleet.token}`,
    ...fleet.nodes.map((n) => `node ${n.id} ${n.url} status ${n.statusUrl}`),
    `generation ${generation ?? 'none (no config applied yet)'}`,
    `pids ${fleetPids(fleet).join(' ')}`,
    '',
    'try:',
    `  export FLEETGATE_SERVER=${fleet.adminUrl} FLEETGATE_TOKEN=${fleet.token}`,
    '  ./node_modules/.bin/fleetgate ctl apply -f examples/quickstart.toml && ./node_modules/.bin/fleetgate ctl fleet',
    'Ctrl-C stops everything.',
    'fleet ready',
  ]
  return `${lines.join('\n')}\n`
}

/** Stops the fleet once, on the first SIGINT or SIGTERM; a second signal exits at once. */
function stopOnSignal(fleet: TestFleet): void {
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) process.exit(1)
    stopping = true
    process.stdout.write(`${signal}: stopping the fleet\n`)
    fleet.stop().then(
      () => {
        process.stdout.write('fleet stopped\n')
        process.exit(0)
      },
      (err: unknown) => {
        process.stderr.write(`fleet-up: stopping failed: ${(err as Error).message}\n`)
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2))
  // A signal during start-up ends this process; testkit kills every child it started on exit.
  const exitNow = () => process.exit(130)
  process.once('SIGINT', exitNow).once('SIGTERM', exitNow)
  const fleet = await startFleet({ nodes: options.nodes, cluster: options.cluster })
  process.off('SIGINT', exitNow).off('SIGTERM', exitNow)
  stopOnSignal(fleet)
  let generation: number | undefined
  if (options.config !== undefined) {
    try {
      generation = await applyConfig(fleet, options.config)
      await fleet.waitForGeneration(generation, 20_000)
    } catch (err) {
      process.stderr.write(`fleet-up: ${(err as Error).message}\n`)
      await fleet.stop()
      process.exit(1)
    }
  }
  process.stdout.write(describe(fleet, generation))
}

main().catch((err: unknown) => {
  process.stderr.write(`fleet-up: ${(err as Error).message}\n${USAGE}`)
  process.exit(1)
})

import assert from 'node:assert/strict'
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { FLEETGATE_BIN, freePort, startProcess, type TestProcess, waitFor } from '@fleetgate/testkit'

/** The environment without any FLEETGATE_* variable of the developer's shell. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('FLEETGATE_')))
}

function configToml(serverPort: number, backendPort: number): string {
  return `[upstreams.api]
addrs = ["127.0.0.1:${backendPort}"]

[locations.api]
upstream = "api"
path = "/"

[servers.main]
addr = "127.0.0.1:${serverPort}"
locations = ["api"]
`
}

interface Standalone {
  process: TestProcess
  statusUrl: string
  adminUrl: string
}

/** Starts `fleetgate standalone` on free ports; resolves once its status listener answers. */
async function startStandalone(dataDir: string, configPath: string, extra: string[] = []): Promise<Standalone> {
  const statusPort = await freePort()
  const adminPort = await freePort()
  const proc = startProcess(
    FLEETGATE_BIN,
    [
      'standalone',
      '--data-dir',
      dataDir,
      '--config',
      configPath,
      '--listen',
      `127.0.0.1:${adminPort}`,
      '--status-addr',
      `127.0.0.1:${statusPort}`,
      ...extra,
    ],
    { env: cleanEnv() },
  )
  const statusUrl = `http://127.0.0.1:${statusPort}`
  await waitFor(
    'standalone /livez',
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`standalone exited ${proc.child.exitCode}: ${proc.output()}`)
      return (await fetch(`${statusUrl}/livez`)).status === 200
    },
    20_000,
    100,
  )
  return { process: proc, statusUrl, adminUrl: `http://127.0.0.1:${adminPort}` }
}

async function status(gateway: Standalone): Promise<Record<string, unknown>> {
  return (await (await fetch(`${gateway.statusUrl}/status`)).json()) as Record<string, unknown>
}

/** Runs the command to its end; resolves with its exit code and output. */
async function runToExit(args: string[]): Promise<{ code: number | null; output: string }> {
  const proc = startProcess(FLEETGATE_BIN, args, { env: cleanEnv() })
  const code = await new Promise<number | null>((resolve) => proc.child.once('exit', (c) => resolve(c)))
  return { code, output: proc.output() }
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

describe('fleetgate standalone', () => {
  let dir: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fleetgate-standalone-'))
  })

  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  test('restarts on the generation in its store when the config file became invalid', async () => {
    const dataDir = join(dir, 'kept')
    const configPath = join(dir, 'kept.toml')
    await writeFile(configPath, configToml(await freePort(), await freePort()))
    const first = await startStandalone(dataDir, configPath)
    await waitFor('generation 1', async () => (await status(first)).generation === 1, 15_000)
    // Standalone follows its local store, not etcd: /status says so.
    const served = await status(first)
    assert.equal(served.source, 'local')
    assert.equal(served.etcdConnected, null)
    assert.equal(await first.process.stop(10_000), 0, first.process.output())

    await writeFile(configPath, '[upstreams.api\naddrs = ["127.0.0.1:1"]\n')
    const second = await startStandalone(dataDir, configPath)
    try {
      await waitFor('readyz after restart', async () => (await fetch(`${second.statusUrl}/readyz`)).status === 200, 15_000)
      assert.equal((await status(second)).generation, 1)
      const output = second.process.output()
      assert.match(output, /config file rejected; the running config keeps serving/)
      assert.match(output, new RegExp(`${configPath}: not imported, serving generation 1 from the store`))
      assert.match(output, /TOML/i)
    } finally {
      assert.equal(await second.process.stop(10_000), 0, second.process.output())
    }
  })

  test('a config file the watcher refuses shows in GET /publish until it is fixed', async () => {
    const dataDir = join(dir, 'watched')
    const configPath = join(dir, 'watched.toml')
    const tokenFile = join(dir, 'watched.token')
    const token = 'fg_0123456789abcdef0123456789abcdef'
    await writeFile(tokenFile, `${token}\n`)
    const [serverPort, backendPort] = [await freePort(), await freePort()]
    await writeFile(configPath, configToml(serverPort, backendPort))
    const gateway = await startStandalone(dataDir, configPath, ['--admin-token-file', tokenFile])
    const publish = async () =>
      (await (await fetch(`${gateway.adminUrl}/api/v1/publish`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
        generation: number | null
        problems: { path: string; message: string }[]
      }
    try {
      await waitFor('generation 1', async () => (await publish()).generation === 1, 15_000)
      assert.deepEqual((await publish()).problems, [])

      // A location naming an upstream that does not exist: refused, generation 1 keeps serving.
      // Replaced whole (temp file + rename), as editors save: the watcher never reads half a file.
      const replace = async (text: string) => {
        await writeFile(`${configPath}.tmp`, text)
        await rename(`${configPath}.tmp`, configPath)
      }
      await replace(configToml(serverPort, backendPort).replace('upstream = "api"', 'upstream = "missing"'))
      await waitFor('the refusal in GET /publish', async () => (await publish()).problems.length > 0, 15_000)
      const refused = await publish()
      assert.equal(refused.generation, 1)
      assert.equal(refused.problems[0]?.path, 'locations.api.upstream')
      assert.match(refused.problems[0]?.message ?? '', new RegExp(`missing.*in ${configPath}, not imported`))
      const ctl = await runToExit(['ctl', 'status', '--server', gateway.adminUrl, '--token', token])
      assert.equal(ctl.code, 0, ctl.output)
      assert.match(ctl.output, /problems:\n {2}locations\.api\.upstream: .*not imported/)

      // Fixed with a new config: imported as generation 2, and the refusal is gone.
      await replace(configToml(serverPort, backendPort).replace('path = "/"', 'path = "/v2"'))
      await waitFor('generation 2', async () => (await publish()).generation === 2, 15_000)
      // Cleared once the import has ended, a moment after the publish it made shows.
      await waitFor('the refusal cleared', async () => (await publish()).problems.length === 0, 15_000)
      assert.equal((await publish()).generation, 2)
    } finally {
      assert.equal(await gateway.process.stop(10_000), 0, gateway.process.output())
    }
  })

  test('exits 1 with the errors when the file is invalid and the store holds nothing', async () => {
    const configPath = join(dir, 'empty.toml')
    await writeFile(configPath, '[upstreams.api\n')
    const adminPort = await freePort()
    const run = await runToExit([
      'standalone',
      '--data-dir',
      join(dir, 'empty'),
      '--config',
      configPath,
      '--listen',
      `127.0.0.1:${adminPort}`,
    ])
    assert.equal(run.code, 1, run.output)
    assert.match(run.output, /invalid config/)
  })

  test('one SIGTERM stops the demo backends too and exits 0', async (t) => {
    if (!(await isPortFree(9001)) || !(await isPortFree(9002))) {
      t.skip('ports 9001/9002 are taken on this machine')
      return
    }
    const configPath = join(dir, 'demo.toml')
    await writeFile(configPath, configToml(await freePort(), 9001))
    const gateway = await startStandalone(join(dir, 'demo'), configPath, ['--demo-backend'])
    await waitFor('demo backend', async () => (await fetch('http://127.0.0.1:9001/')).status === 200, 10_000)
    // A kept-alive client connection must not hold the process open either.
    const code = await gateway.process.stop(8_000)
    assert.equal(code, 0, gateway.process.output())
    assert.equal(await isPortFree(9001), true)
    assert.equal(await isPortFree(9002), true)
  })
})

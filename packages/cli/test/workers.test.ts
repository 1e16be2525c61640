// `fleetgate proxy --workers 2` as a supervisor: a worker that cannot start (its listen address
// in use) fails the command like a single process would; one that dies later is restarted.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { FLEETGATE_BIN, freePort, startBackend, startProcess, type TestBackend, waitFor } from '@fleetgate/testkit'

let dir: string
let backend: TestBackend

/** The environment without any FLEETGATE_* variable of the developer's shell, plus `mark`. */
function env(mark: string): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('FLEETGATE_'))), WORKERS_TEST_MARK: mark }
}

function config(port: number): string {
  return `[upstreams.api]\naddrs = ["${backend.addr}"]\n\n[locations.api]\nupstream = "api"\npath = "/"\n\n[servers.main]\naddr = "127.0.0.1:${port}"\nlocations = ["api"]\n`
}

/** PIDs of the worker processes started with `mark` in their environment. */
function workerPids(mark: string): number[] {
  const pids: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const environ = readFileSync(`/proc/${name}/environ`, 'utf8').split('\0')
      if (environ.includes(`WORKERS_TEST_MARK=${mark}`) && environ.some((e) => e.startsWith('FLEETGATE_WORKER_ID=')))
        pids.push(Number(name))
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return pids
}

describe('proxy --workers', () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fleetgate-workers-'))
    backend = await startBackend('api')
  })
  after(async () => {
    await backend?.close()
    await rm(dir, { recursive: true, force: true })
  })

  test('a listen address in use fails the command with exit code 1 instead of restarting workers forever', async () => {
    const taken: Server = createServer()
    const port = await freePort()
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve))
    try {
      const file = join(dir, 'in-use.toml')
      await writeFile(file, config(port))
      const proc = startProcess(FLEETGATE_BIN, ['proxy', '--config', file, '--workers', '2'], { env: env(randomUUID()) })
      try {
        await waitFor('the supervisor to exit', () => proc.child.exitCode !== null, 15_000)
        assert.equal(proc.child.exitCode, 1, proc.output())
        assert.match(proc.output(), /a worker failed to start; stopping the others/)
        assert.match(proc.output(), /EADDRINUSE/)
      } finally {
        await proc.stop(5000)
      }
    } finally {
      taken.close()
    }
  })

  test('a worker that dies after starting is restarted, and SIGTERM still stops everything with exit code 0', async () => {
    const port = await freePort()
    const file = join(dir, 'ok.toml')
    await writeFile(file, config(port))
    const mark = randomUUID()
    const proc = startProcess(FLEETGATE_BIN, ['proxy', '--config', file, '--workers', '2'], { env: env(mark) })
    try {
      // Each worker logs "config applied" once its listener is open.
      const applied = () => proc.output().split('"msg":"config applied"').length - 1
      await waitFor('two workers serving', () => applied() === 2 && workerPids(mark).length === 2, 30_000)
      const [victim] = workerPids(mark)
      process.kill(victim as number, 'SIGKILL')
      await waitFor('the restart', () => /worker exited; restarting it/.test(proc.output()), 10_000)
      await waitFor('the new worker serving', () => applied() === 3 && !workerPids(mark).includes(victim as number), 30_000)
      assert.equal(workerPids(mark).length, 2)
      assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 200)
    } finally {
      assert.equal(await proc.stop(15_000), 0, proc.output())
    }
    assert.deepEqual(workerPids(mark), [], 'no worker is left behind')
  })
})

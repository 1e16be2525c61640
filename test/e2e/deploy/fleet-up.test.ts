// scripts/fleet-up.ts end to end: it starts etcd, a control plane and two data planes, applies the
// config it is given, prints URLs, token and PIDs; a config PUT through the admin API reaches both
// nodes; SIGTERM stops every process it started.
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { startBackend, startProcess, type TestBackend, type TestProcess, waitFor } from '@fleetgate/testkit'

const root = new URL('../../../', import.meta.url).pathname

function config(backend: TestBackend): string {
  return `[upstreams.app]\naddrs = ["${backend.addr}"]\n\n[locations.all]\nupstream = "app"\npath = "/"\n\n[servers.main]\naddr = "127.0.0.1:0"\nlocations = ["all"]\n`
}

/** The value after `key ` on the first line starting with it. */
function line(output: string, key: string): string {
  const found = output.split('\n').find((l) => l.startsWith(`${key} `))
  assert.ok(found, `no "${key}" line in:\n${output}`)
  return found.slice(key.length + 1)
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('scripts/fleet-up.ts', { timeout: 60_000 }, () => {
  let dir: string
  let alpha: TestBackend
  let beta: TestBackend
  let script: TestProcess
  let output = ''

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fleetgate-fleet-up-'))
    alpha = await startBackend('alpha')
    beta = await startBackend('beta')
    await writeFile(join(dir, 'fleet.toml'), config(alpha))
    // The real Node binary (this test's own), not node_modules/.bin/node: that wrapper runs Node as
    // a child, and a SIGTERM sent to the wrapper's PID would not reach the script.
    script = startProcess(process.execPath, ['scripts/fleet-up.ts', '--nodes', '2', '--config', join(dir, 'fleet.toml')], { cwd: root })
    output = await waitFor(
      'fleet-up to print "fleet ready"',
      () => {
        if (script.child.exitCode !== null) throw new Error(`fleet-up exited ${script.child.exitCode}: ${script.output()}`)
        return script.output().includes('fleet ready\n') ? script.output() : undefined
      },
      45_000,
    )
  })
  after(async () => {
    await script?.stop()
    await alpha?.close()
    await beta?.close()
    await rm(dir, { recursive: true, force: true })
  })

  const nodeUrls = () =>
    output
      .split('\n')
      .filter((l) => l.startsWith('node '))
      .map((l) => l.split(' ')[2] as string)

  test('it prints the control plane, the admin token, two nodes and the PIDs', () => {
    assert.match(line(output, 'control-plane'), /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.match(line(output, 'admin-token'), /^\S{16,}$/)
    assert.equal(nodeUrls().length, 2)
    assert.equal(line(output, 'pids').split(' ').length, 4)
  })

  test('both nodes serve the config given with --config', async () => {
    for (const url of nodeUrls()) {
      const res = await fetch(`${url}/hello`)
      assert.equal(res.status, 200)
      assert.equal(((await res.json()) as { backend: string }).backend, 'alpha')
    }
  })

  test('a config applied through the admin API reaches both nodes', async () => {
    const put = await fetch(`${line(output, 'control-plane')}/api/v1/config`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${line(output, 'admin-token')}`, 'content-type': 'application/toml' },
      body: config(beta),
    })
    assert.equal(put.status, 200, await put.clone().text())
    for (const url of nodeUrls()) {
      await waitFor(
        `${url} served by beta`,
        async () => ((await (await fetch(`${url}/x`)).json()) as { backend: string }).backend === 'beta',
        15_000,
      )
    }
  })

  test('SIGTERM stops every process it started and exits 0', async () => {
    const pids = line(output, 'pids').split(' ').map(Number)
    assert.ok(pids.every(alive), 'every process runs before SIGTERM')
    const code = await script.stop(20_000)
    assert.equal(code, 0, script.output())
    await waitFor('every fleet process gone', () => pids.every((pid) => !alive(pid)), 5_000)
  })
})

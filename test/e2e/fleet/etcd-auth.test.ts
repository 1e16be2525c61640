// A fleet on an etcd with auth enabled, set up the way deploy/k8s/etcd-auth does it: the
// control plane has read-write on the cluster prefix, data planes read it and write only their
// own nodes/ keys. Credentials come from flags and files, and never show in the logs.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import {
  FLEETGATE_BIN,
  freePort,
  startBackend,
  startEtcd,
  startProcess,
  type TestBackend,
  type TestEtcd,
  type TestProcess,
  waitFor,
} from '@fleetgate/testkit'

const CLUSTER = 'secure'

async function exitCode(p: TestProcess): Promise<number | null> {
  if (p.child.exitCode !== null) return p.child.exitCode
  const [code] = (await once(p.child, 'exit')) as [number | null]
  return code
}
const PREFIX = `/fleetgate/${CLUSTER}/`

describe('fleet on an etcd with auth enabled', () => {
  let etcd: TestEtcd
  let dir: string
  let backend: TestBackend
  let controlPlane: TestProcess
  let proxy: TestProcess
  const passwords = { root: randomBytes(12).toString('hex'), cp: randomBytes(12).toString('hex'), dp: randomBytes(12).toString('hex') }
  const token = randomBytes(16).toString('hex')
  let adminUrl: string
  let proxyPort: number
  let statusPort: number

  before(async () => {
    etcd = await startEtcd()
    dir = await mkdtemp(join(tmpdir(), 'fleetgate-etcd-auth-'))
    backend = await startBackend('secured')
    const ctl = etcd.etcdctl
    await ctl(['user', 'add', 'root', '--interactive=false', `--new-user-password=${passwords.root}`])
    await ctl(['user', 'grant-role', 'root', 'root'])
    await ctl(['role', 'add', 'fleetgate-control-plane'])
    await ctl(['role', 'grant-permission', 'fleetgate-control-plane', 'readwrite', PREFIX, '--prefix=true'])
    await ctl(['user', 'add', 'fleetgate-control-plane', '--interactive=false', `--new-user-password=${passwords.cp}`])
    await ctl(['user', 'grant-role', 'fleetgate-control-plane', 'fleetgate-control-plane'])
    await ctl(['role', 'add', 'fleetgate-data-plane'])
    await ctl(['role', 'grant-permission', 'fleetgate-data-plane', 'read', PREFIX, '--prefix=true'])
    await ctl(['role', 'grant-permission', 'fleetgate-data-plane', 'readwrite', `${PREFIX}nodes/`, '--prefix=true'])
    await ctl(['user', 'add', 'fleetgate-data-plane', '--interactive=false', `--new-user-password=${passwords.dp}`])
    await ctl(['user', 'grant-role', 'fleetgate-data-plane', 'fleetgate-data-plane'])
    await ctl(['auth', 'enable'])
    await writeFile(join(dir, 'cp.password'), `${passwords.cp}\n`, { mode: 0o600 })
    await writeFile(join(dir, 'dp.password'), `${passwords.dp}\n`, { mode: 0o600 })
    await writeFile(join(dir, 'wrong.password'), 'not-the-password\n', { mode: 0o600 })

    const adminPort = await freePort()
    adminUrl = `http://127.0.0.1:${adminPort}`
    controlPlane = startProcess(
      FLEETGATE_BIN,
      [
        'control-plane',
        '--etcd',
        etcd.endpoint,
        '--cluster',
        CLUSTER,
        '--listen',
        `127.0.0.1:${adminPort}`,
        '--etcd-username',
        'fleetgate-control-plane',
        '--etcd-password-file',
        join(dir, 'cp.password'),
      ],
      { env: { FLEETGATE_ADMIN_TOKEN: token } },
    )
    await waitFor('control plane /readyz', async () => (await fetch(`${adminUrl}/readyz`)).ok, 20_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${controlPlane.output()}`)
    })
    ;[proxyPort, statusPort] = await Promise.all([freePort(), freePort()])
  })

  after(async () => {
    await proxy?.stop()
    await controlPlane?.stop()
    await etcd?.stop()
    await backend?.close()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  test('the control plane publishes with its own etcd user', async () => {
    const res = await fetch(`${adminUrl}/api/v1/config`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/toml' },
      body: `
[upstreams.app]
addrs = ["${backend.addr}"]

[locations.app]
upstream = "app"

[servers.main]
addr = "127.0.0.1:${proxyPort}"
locations = ["app"]
`,
    })
    assert.equal(res.status, 200, await res.clone().text())
    assert.equal(((await res.json()) as { generation: number }).generation, 1)
  })

  test('a data plane with the read-only role applies the config and reports itself', async () => {
    proxy = startProcess(FLEETGATE_BIN, [
      'proxy',
      '--etcd',
      etcd.endpoint,
      '--cluster',
      CLUSTER,
      '--node-id',
      'dp1',
      '--status-addr',
      `127.0.0.1:${statusPort}`,
      '--etcd-username',
      'fleetgate-data-plane',
      '--etcd-password-file',
      join(dir, 'dp.password'),
    ])
    await waitFor(
      'data plane at generation 1',
      async () => ((await (await fetch(`http://127.0.0.1:${statusPort}/status`)).json()) as { generation?: number }).generation === 1,
      20_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${proxy.output()}`)
    })
    const res = await fetch(`http://127.0.0.1:${proxyPort}/hello`)
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('x-backend'), 'secured')
    const fleet = await fetch(`${adminUrl}/api/v1/fleet`, { headers: { authorization: `Bearer ${token}` } })
    const nodes = ((await fleet.json()) as { nodes: Array<{ id: string; applied: { generation: number } | null }> }).nodes
    assert.equal(nodes.find((n) => n.id === 'dp1')?.applied?.generation, 1, 'the node wrote nodes/dp1 with its role')
  })

  test('the data-plane user cannot write the desired config', async () => {
    const denied = await etcd
      .etcdctl(['--user', `fleetgate-data-plane:${passwords.dp}`, 'put', `${PREFIX}desired/upstreams/evil`, '{}'])
      .then(
        () => '',
        (err: Error) => err.message,
      )
    assert.match(denied, /permission denied/)
  })

  test('a wrong password is a clear error, and no password appears in any log', async () => {
    const bad = startProcess(FLEETGATE_BIN, [
      'proxy',
      '--etcd',
      etcd.endpoint,
      '--cluster',
      CLUSTER,
      '--node-id',
      'dp-bad',
      '--status-addr',
      `127.0.0.1:${await freePort()}`,
      '--etcd-username',
      'fleetgate-data-plane',
      '--etcd-password-file',
      join(dir, 'wrong.password'),
    ])
    try {
      await waitFor(
        'an authentication error in the log',
        () => /authentication failed|invalid user ID or password/i.test(bad.output()),
        20_000,
      )
    } finally {
      await bad.stop()
    }
    for (const output of [bad.output(), proxy.output(), controlPlane.output()]) {
      for (const secret of Object.values(passwords)) assert.ok(!output.includes(secret), 'a password leaked into a log')
    }
  })

  test('a password flag without a user, or a user without a password, is refused before connecting', async () => {
    const noUser = startProcess(FLEETGATE_BIN, [
      'proxy',
      '--etcd',
      etcd.endpoint,
      '--cluster',
      CLUSTER,
      '--etcd-password-file',
      join(dir, 'dp.password'),
    ])
    assert.equal(await exitCode(noUser), 2)
    assert.match(noUser.output(), /--etcd-password-file needs --etcd-username/)
    const noPassword = startProcess(
      FLEETGATE_BIN,
      ['control-plane', '--etcd', etcd.endpoint, '--cluster', CLUSTER, '--etcd-username', 'x'],
      {
        env: { FLEETGATE_ADMIN_TOKEN: token, FLEETGATE_ETCD_PASSWORD: '' },
      },
    )
    assert.equal(await exitCode(noPassword), 2)
    assert.match(noPassword.output(), /needs a password/)
  })
})

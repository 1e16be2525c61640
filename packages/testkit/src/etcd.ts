import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './ports.ts'
import { startProcess, type TestProcess } from './process.ts'
import { waitFor } from './wait.ts'

/** Runs `etcdctl` (API v3) against one endpoint and resolves with its stdout; rejects with stderr on failure. */
export type Etcdctl = (args: string[]) => Promise<string>

/** A real single-member etcd started for a test. */
export interface TestEtcd {
  /** Client URL, for example `http://127.0.0.1:40123`. */
  readonly endpoint: string
  readonly dataDir: string
  /** The etcd process running now (a new one after each restart). */
  readonly process: TestProcess
  /** Stops etcd by PID and deletes its data dir. */
  stop(): Promise<void>
  /** Stops etcd and starts it again on the same ports and data dir; `downMs` keeps it down that long first. */
  restart(opts?: { downMs?: number }): Promise<void>
  /**
   * Restarts etcd on a side client port that only `fn`'s etcdctl knows, runs `fn`, then restarts it on its
   * own port: clients see etcd down for the whole of `fn` while `fn` writes, compacts or lets leases expire.
   */
  whileUnreachable<T>(fn: (etcdctl: Etcdctl) => Promise<T>): Promise<T>
  /** etcdctl against the normal endpoint. */
  etcdctl: Etcdctl
}

/** Options for {@link startEtcd}. */
export interface StartEtcdOptions {
  /** Extra etcd flags, for example `['--auto-compaction-retention=1']`. */
  args?: string[]
  /** How long to wait for etcd to answer after each start. */
  startTimeoutMs?: number
}

const ETCD = '/usr/bin/etcd'
const ETCDCTL = '/usr/bin/etcdctl'

/** Starts etcd on two free 127.0.0.1 ports (client and peer) with a temp data dir and waits until it is healthy. */
export async function startEtcd(opts: StartEtcdOptions = {}): Promise<TestEtcd> {
  const clientPort = await freePort()
  const peerPort = await freePort()
  const dataDir = await mkdtemp(join(tmpdir(), 'fleetgate-etcd-'))
  const endpoint = `http://127.0.0.1:${clientPort}`
  const timeoutMs = opts.startTimeoutMs ?? 15_000
  const launch = (port: number) => launchEtcd({ dataDir, clientPort: port, peerPort, extra: opts.args ?? [], timeoutMs })
  let current = await launch(clientPort)
  const etcdctl = etcdctlFor(endpoint)
  return {
    endpoint,
    dataDir,
    get process() {
      return current
    },
    etcdctl,
    async stop() {
      await current.stop()
      await rm(dataDir, { recursive: true, force: true })
    },
    async restart({ downMs = 0 } = {}) {
      await current.stop()
      if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs))
      current = await launch(clientPort)
    },
    async whileUnreachable(fn) {
      await current.stop()
      const sidePort = await freePort()
      current = await launch(sidePort)
      try {
        return await fn(etcdctlFor(`http://127.0.0.1:${sidePort}`))
      } finally {
        await current.stop()
        current = await launch(clientPort)
      }
    },
  }
}

async function launchEtcd(o: {
  dataDir: string
  clientPort: number
  peerPort: number
  extra: string[]
  timeoutMs: number
}): Promise<TestProcess> {
  const client = `http://127.0.0.1:${o.clientPort}`
  const peer = `http://127.0.0.1:${o.peerPort}`
  // initial-* flags only matter on the first start; later starts read membership from the data dir.
  const proc = startProcess(ETCD, [
    '--name=test',
    `--data-dir=${o.dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=test=${peer}`,
    '--initial-cluster-state=new',
    '--logger=zap',
    '--log-level=warn',
    // A single member elects itself after one election timeout; a short one makes starts and restarts fast.
    '--heartbeat-interval=25',
    '--election-timeout=250',
    ...o.extra,
  ])
  try {
    await waitFor(
      `etcd on ${client}`,
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`etcd exited with ${proc.child.exitCode}: ${proc.output().slice(-2000)}`)
        const res = await fetch(`${client}/health`, { signal: AbortSignal.timeout(1000) })
        return res.ok && ((await res.json()) as { health?: string }).health === 'true'
      },
      o.timeoutMs,
    )
  } catch (err) {
    await proc.stop()
    throw err
  }
  return proc
}

function etcdctlFor(endpoint: string): Etcdctl {
  return (args) =>
    new Promise((resolve, reject) => {
      execFile(
        ETCDCTL,
        [`--endpoints=${endpoint}`, ...args],
        { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 10_000 },
        (err, stdout, stderr) => {
          if (err) reject(new Error(`etcdctl ${args.join(' ')} failed: ${stderr || err.message}`, { cause: err }))
          else resolve(stdout)
        },
      )
    })
}

import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './ports.ts'
import { startProcess, type TestProcess } from './process.ts'
import { waitFor } from './wait.ts'

const root = new URL('../../../', import.meta.url).pathname
/** The repo's fleetgate command (Node 24 via the pnpm shim). */
export const FLEETGATE_BIN = join(root, 'node_modules/.bin/fleetgate')

/** A `fleetgate proxy --config` process started by a test. */
export interface GatewayProcess {
  readonly process: TestProcess
  /** Status listener base URL, e.g. http://127.0.0.1:PORT */
  readonly statusUrl: string
  readonly configPath: string
  /** Replaces the config file (atomically, by rename) — the gateway reloads on its own. */
  writeConfig(toml: string): Promise<void>
  /** Waits until /status reports `generation`. */
  waitForGeneration(generation: number, timeoutMs?: number): Promise<void>
  status(): Promise<Record<string, unknown>>
  stop(): Promise<number | null>
}

/**
 * Writes `toml` to a temp file and starts `fleetgate proxy --config` on it with a status
 * listener on a free port; resolves once /readyz answers 200.
 */
export async function startGateway(toml: string, extraArgs: string[] = []): Promise<GatewayProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'fleetgate-test-'))
  const configPath = join(dir, 'gateway.toml')
  await writeFile(configPath, toml)
  const statusPort = await freePort()
  const statusUrl = `http://127.0.0.1:${statusPort}`
  const proc = startProcess(FLEETGATE_BIN, ['proxy', '--config', configPath, '--status-addr', `127.0.0.1:${statusPort}`, ...extraArgs])
  const status = async () => (await (await fetch(`${statusUrl}/status`)).json()) as Record<string, unknown>
  try {
    await waitFor(
      'gateway /readyz',
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`gateway exited ${proc.child.exitCode}: ${proc.output()}`)
        return (await fetch(`${statusUrl}/readyz`)).status === 200
      },
      15_000,
    )
  } catch (err) {
    await proc.stop()
    throw new Error(`${(err as Error).message}\n${proc.output()}`)
  }
  return {
    process: proc,
    statusUrl,
    configPath,
    async writeConfig(text) {
      const tmp = `${configPath}.tmp`
      await writeFile(tmp, text)
      const { rename } = await import('node:fs/promises')
      await rename(tmp, configPath)
    },
    async waitForGeneration(generation, timeoutMs = 10_000) {
      await waitFor(`generation ${generation}`, async () => (await status()).generation === generation, timeoutMs)
    },
    status,
    async stop() {
      const code = await proc.stop()
      await rm(dir, { recursive: true, force: true })
      return code
    },
  }
}

import { readFile } from 'node:fs/promises'
import { emptyFileError, formatConfigErrors, loadConfigText } from '@fleetgate/schema'
import { isTlsServer } from '@fleetgate/schema/runtime'

/** `fleetgate validate FILE.toml`: prints every error and returns 1, or "ok" and 0. */
export async function validateCommand(positionals: string[]): Promise<number> {
  const file = positionals[0]
  if (file === undefined) {
    process.stderr.write('usage: fleetgate validate FILE.toml\n')
    return 2
  }
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    process.stderr.write(`${file}: ${(err as Error).message}\n`)
    return 1
  }
  const empty = emptyFileError(text)
  const result = empty === undefined ? loadConfigText(text) : { ok: false as const, errors: [empty] }
  if (!result.ok) {
    process.stderr.write(`${file}: ${result.errors.length} error(s)\n${formatConfigErrors(result.errors)}\n`)
    return 1
  }
  const c = result.config
  const tls = Object.keys(c.certificates ?? {}).length > 0 || Object.values(c.servers).some(isTlsServer)
  if (Object.keys(c.plugins).length > 0 || tls) {
    // Checks a schema cannot express: each plugin's own create() (CIDRs, regexes, keys), and the
    // PEM files (readable, parsing, key matching certificate), read as the gateway reads them.
    const { checkPluginConfigs, checkTlsConfig } = await import('@fleetgate/data-plane')
    const errors = [...checkPluginConfigs(c.plugins), ...(tls ? checkTlsConfig(c) : [])]
    if (errors.length > 0) {
      process.stderr.write(`${file}: ${errors.length} error(s)\n${formatConfigErrors(errors)}\n`)
      return 1
    }
  }
  const count = (o: object) => Object.keys(o).length
  process.stdout.write(
    `${file}: ok (${count(c.servers)} servers, ${count(c.locations)} locations, ${count(c.upstreams)} upstreams, ${count(c.plugins)} plugins)\n`,
  )
  return 0
}

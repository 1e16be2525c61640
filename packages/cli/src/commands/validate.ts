import { readFile } from 'node:fs/promises'
import { formatConfigErrors, loadConfigText } from '@fleetgate/schema'

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
  const result = loadConfigText(text)
  if (!result.ok) {
    process.stderr.write(`${file}: ${result.errors.length} error(s)\n${formatConfigErrors(result.errors)}\n`)
    return 1
  }
  const c = result.config
  if (Object.keys(c.plugins).length > 0) {
    // Checks a schema cannot express (CIDRs, regexes, keys): each plugin's own create().
    const { checkPluginConfigs } = await import('@fleetgate/data-plane')
    const errors = checkPluginConfigs(c.plugins)
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

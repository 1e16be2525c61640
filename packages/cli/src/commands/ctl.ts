import { describeFlags, type FlagSpec, type Flags, parseFlags } from '../args.ts'
import { AdminClient, CtlFailure, EXIT } from '../ctl/admin-client.ts'
import { applyConfig, getConfig } from '../ctl/config-commands.ts'
import { showDiff, showHistory } from '../ctl/history-commands.ts'
import { release, restore, rollback, showFleet, showStatus } from '../ctl/publish-commands.ts'
import { purgeCache } from '../ctl/purge-command.ts'

/** Flags of `fleetgate ctl`. */
export const ctlFlags: Record<string, FlagSpec> = {
  server: { type: 'string', help: 'admin API base URL (default http://127.0.0.1:9180)' },
  token: { type: 'string', help: 'API token (admin for writes)' },
  file: { type: 'string', short: 'f', help: 'apply: config file, TOML (or JSON when it ends in .json); "-" reads stdin' },
  message: { type: 'string', short: 'm', help: 'apply: version message' },
  author: { type: 'string', help: 'apply: author recorded in the version (default: the token role)' },
  url: { type: 'string', help: 'purge: the cached URL to drop (http://host/path?query)' },
  prefix: { type: 'string', help: 'purge: drop every cached URL under this prefix (http://host/path*)' },
  plugin: { type: 'string', help: 'purge: only this cache instance (default: all)' },
  json: { type: 'boolean', help: 'print JSON instead of TOML or tables' },
  help: { type: 'boolean', short: 'h', help: 'this text' },
}

const USAGE = `usage: fleetgate ctl <command> [flags]

commands:
  apply -f FILE.toml [-m MSG]  replace the desired config and publish it
  get [KIND [NAME]]            the desired config, one kind or one resource (TOML; --json for JSON)
  history                      published versions, newest first
  diff A B                     what changed from generation A to B (+ added, - removed, ~ changed)
  rollback GEN                 publish GEN's content again and hold auto-publish
  restore GEN                  write GEN back into desired/ and release the hold
  release                      release a rollback hold
  status                       the last publish attempt
  fleet                        data planes and the generation each applied
  purge --url U | --prefix P*  drop cached responses on every data plane (--plugin NAME: one cache)

exit codes: 0 ok, 1 refused (invalid config, conflict, stale ETag, not found), 2 usage error,
3 server unreachable or authentication failure

flags:
${describeFlags(ctlFlags)}
`

/** `fleetgate ctl`: the admin API from the command line. Resolves with the exit code. */
export async function ctlCommand(argv: string[]): Promise<number> {
  let parsed: { flags: Flags; positionals: string[] }
  try {
    parsed = parseFlags(argv, ctlFlags)
  } catch (err) {
    return usageError((err as Error).message)
  }
  const { flags, positionals } = parsed
  if (flags.help) {
    process.stdout.write(USAGE)
    return EXIT.ok
  }
  const client = new AdminClient((flags.server as string | undefined) ?? 'http://127.0.0.1:9180', flags.token as string | undefined)
  try {
    process.stdout.write(await runSubcommand(client, positionals, flags))
    return EXIT.ok
  } catch (err) {
    if (!(err instanceof CtlFailure)) throw err
    if (err.exitCode === EXIT.usage) return usageError(err.message)
    process.stderr.write(`${err.lines.join('\n')}\n`)
    return err.exitCode
  }
}

async function runSubcommand(client: AdminClient, positionals: string[], flags: Flags): Promise<string> {
  const [command, ...args] = positionals
  const json = flags.json === true
  switch (command) {
    case 'apply':
      expectArgs(command, args, 0, 0)
      if (typeof flags.file !== 'string') throw usage('apply needs -f FILE.toml')
      return await applyConfig(client, {
        file: flags.file,
        message: flags.message as string | undefined,
        author: flags.author as string | undefined,
      })
    case 'get':
      expectArgs(command, args, 0, 2)
      return await getConfig(client, { kind: args[0], name: args[1], json })
    case 'history':
      expectArgs(command, args, 0, 0)
      return await showHistory(client, { json })
    case 'diff':
      expectArgs(command, args, 2, 2)
      return await showDiff(client, { from: generationArg(args[0]), to: generationArg(args[1]), json })
    case 'rollback':
      expectArgs(command, args, 1, 1)
      return await rollback(client, generationArg(args[0]))
    case 'restore':
      expectArgs(command, args, 1, 1)
      return await restore(client, generationArg(args[0]))
    case 'release':
      expectArgs(command, args, 0, 0)
      return await release(client)
    case 'status':
      expectArgs(command, args, 0, 0)
      return await showStatus(client, { json })
    case 'fleet':
      expectArgs(command, args, 0, 0)
      return await showFleet(client, { json })
    case 'purge':
      expectArgs(command, args, 0, 0)
      return await purgeCache(client, {
        ...(typeof flags.url === 'string' ? { url: flags.url } : {}),
        ...(typeof flags.prefix === 'string' ? { prefix: flags.prefix } : {}),
        ...(typeof flags.plugin === 'string' ? { plugin: flags.plugin } : {}),
      })
    case undefined:
      throw usage('missing command')
    default:
      throw usage(`unknown command "${command}"`)
  }
}

function expectArgs(command: string, args: string[], min: number, max: number): void {
  if (args.length < min || args.length > max) {
    throw usage(`${command} takes ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? '' : 's'}, got ${args.length}`)
  }
}

function generationArg(text: string | undefined): number {
  if (text === undefined || !/^\d{1,15}$/.test(text)) throw usage(`expected a generation number, got "${text ?? ''}"`)
  return Number(text)
}

function usage(message: string): CtlFailure {
  return new CtlFailure(EXIT.usage, [message])
}

function usageError(message: string): number {
  process.stderr.write(`fleetgate ctl: ${message}\n\n${USAGE}`)
  return EXIT.usage
}

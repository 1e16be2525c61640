const USAGE = `usage: fleetgate <command> [flags]

commands:
  proxy --config FILE.toml     run a data plane from a config file (reloads on change and SIGHUP)
  control-plane --etcd URLS --cluster NAME [--listen HOST:PORT]
                               admin API and publisher over etcd
  ctl <apply|get|history|diff|rollback|restore|release|status|fleet>
                               talk to the admin API (--server URL --token T)
  standalone --data-dir DIR [--config FILE.toml]
                               control plane and data plane in one process, no etcd
  validate FILE.toml           check a config offline; exit 0 or 1 with every error listed
  help                         this text

Every flag also reads from FLEETGATE_<FLAG_NAME>. Run "fleetgate <command> --help" for flags.
`

/** Runs the command line; resolves with the process exit code. */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  switch (command) {
    // Commands load lazily: `validate` must not pull in the proxy, and start-up stays fast.
    case 'proxy':
      return await (await import('./commands/proxy.ts')).proxyCommand(rest)
    case 'validate':
      return await (await import('./commands/validate.ts')).validateCommand(rest)
    case 'control-plane':
      return await (await import('./commands/control-plane.ts')).controlPlaneCommand(rest)
    case 'standalone':
      return await (await import('./commands/standalone.ts')).standaloneCommand(rest)
    case 'ctl':
      return await (await import('./commands/ctl.ts')).ctlCommand(rest)
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE)
      return command === undefined ? 2 : 0
    default:
      process.stderr.write(`fleetgate: unknown command "${command}"\n\n${USAGE}`)
      return 2
  }
}

process.on('unhandledRejection', (err) => {
  process.stderr.write(`fleetgate: unhandled rejection: ${(err as Error)?.stack ?? String(err)}\n`)
})

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
    if (code !== 0 || process.argv[2] !== 'proxy') return
    process.exit(code)
  },
  (err: Error & { code?: string }) => {
    process.stderr.write(`fleetgate: ${err.code === 'CONFIG_INVALID' ? 'invalid config:\n' : ''}${err.message}\n`)
    process.exit(1)
  },
)

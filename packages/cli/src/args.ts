import { parseArgs } from 'node:util'

/** One flag of a command: its type, whether it repeats, and its help text. */
export interface FlagSpec {
  type: 'string' | 'boolean'
  multiple?: boolean
  short?: string
  help: string
}

/** Parsed flags: strings, booleans and string lists by flag name. */
export type Flags = Record<string, string | boolean | string[] | undefined>

/**
 * Parses `argv` against `specs`; every flag missing from the command line is read from
 * FLEETGATE_<FLAG_NAME> (dashes become underscores; lists are comma-separated).
 * Throws a readable error on an unknown flag.
 */
export function parseFlags(
  argv: string[],
  specs: Record<string, FlagSpec>,
  env: NodeJS.ProcessEnv = process.env,
): { flags: Flags; positionals: string[] } {
  const options = Object.fromEntries(
    Object.entries(specs).map(([name, s]) => [
      name,
      { type: s.type, multiple: s.multiple ?? false, ...(s.short ? { short: s.short } : {}) },
    ]),
  )
  const { values, positionals } = parseArgs({ args: joinDashValues(argv, specs), options, allowPositionals: true, strict: true })
  const flags = { ...values } as Flags
  for (const [name, spec] of Object.entries(specs)) {
    if (flags[name] !== undefined) continue
    const raw = env[`FLEETGATE_${name.toUpperCase().replace(/-/g, '_')}`]
    if (raw === undefined || raw === '') continue
    if (spec.type === 'boolean') flags[name] = raw === '1' || raw.toLowerCase() === 'true'
    else flags[name] = spec.multiple ? raw.split(',').map((s) => s.trim()) : raw
  }
  return { flags, positionals }
}

/**
 * `--flag VALUE` with a VALUE starting with "-" (a token, say) becomes `--flag=VALUE`, which
 * parseArgs would otherwise refuse as ambiguous; a VALUE that spells one of the flags stays a flag.
 */
function joinDashValues(argv: readonly string[], specs: Record<string, FlagSpec>): string[] {
  const byShort = new Map(Object.entries(specs).flatMap(([name, s]) => (s.short ? [[s.short, name] as const] : [])))
  const isFlag = (arg: string) =>
    arg === '--' ||
    (arg.startsWith('--') ? (arg.slice(2).split('=')[0] as string) in specs : byShort.has(arg.slice(1, 2)) && arg.length === 2)
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '--') {
      out.push(...argv.slice(i))
      break
    }
    const name = arg.startsWith('--') ? arg.slice(2) : arg.length === 2 && arg.startsWith('-') ? byShort.get(arg.slice(1)) : undefined
    const next = argv[i + 1]
    if (name !== undefined && specs[name]?.type === 'string' && next?.startsWith('-') && next !== '-' && !isFlag(next)) {
      out.push(`--${name}=${next}`)
      i++
    } else out.push(arg)
  }
  return out
}

/** Help text of a command's flags, one per line. */
export function describeFlags(specs: Record<string, FlagSpec>): string {
  return Object.entries(specs)
    .map(
      ([name, s]) =>
        `  --${name}${s.type === 'string' ? ' VALUE' : ''}${s.multiple ? ' (repeatable)' : ''}\n      ${s.help} [env FLEETGATE_${name.toUpperCase().replace(/-/g, '_')}]`,
    )
    .join('\n')
}

/** "SERVER=HOST:PORT" list -> map; throws on a malformed entry. */
export function parseListenOverrides(entries: readonly string[]): Map<string, string> {
  const map = new Map<string, string>()
  for (const entry of entries) {
    const i = entry.indexOf('=')
    if (i <= 0) throw new Error(`--listen expects SERVER=HOST:PORT, got "${entry}"`)
    map.set(entry.slice(0, i), entry.slice(i + 1))
  }
  return map
}

import { trackConnectionReuse } from '../../upstream/connection-reuse.ts'
import type { LogEntry, LogGetter, LogValue } from './log-entry.ts'
import { cookie, requestHeader, responseHeader, VARIABLES } from './variables.ts'

/** Turns a finished request into one log line (with its trailing newline). */
export type LineFormatter = (e: LogEntry) => string

/** The preset formats, by name; `json` is built from JSON_FIELDS instead. */
export const PRESETS: Readonly<Record<string, string>> = {
  combined: '{remote} - - [{time_clf}] "{method} {uri} {proto}" {status} {size} "{referer}" "{user_agent}"',
  common: '{remote} - - [{time_clf}] "{method} {uri} {proto}" {status} {size}',
  short: '{remote} {method} {uri} {proto} {status} {size} - {latency} ms',
  tiny: '{method} {uri} {status} {size} - {latency} ms',
}

/** Fields of the `json` preset: key -> variable. */
const JSON_FIELDS = [
  'time',
  'server',
  'location',
  'remote',
  'client_ip',
  'method',
  'scheme',
  'host',
  'path',
  'query',
  'proto',
  'status',
  'size',
  'latency',
  'ttfb',
  'upstream',
  'upstream_addr',
  'upstream_status',
  'upstream_connect_time',
  'upstream_response_time',
  'attempts',
  'request_id',
  'user_agent',
  'referer',
  'error',
]

// Control characters, quotes and backslashes are escaped as \xHH, so a request cannot forge lines or fields.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNSAFE = /[\x00-\x1f"\\\x7f]/
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNSAFE_ALL = /[\x00-\x1f"\\\x7f]/g
const hex = (c: string) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`

function text(v: LogValue): string {
  if (v === undefined || v === '') return '-'
  if (typeof v === 'number') return String(v)
  return UNSAFE.test(v) ? v.replace(UNSAFE_ALL, hex) : v
}

function json(v: LogValue): string {
  if (v === undefined) return 'null'
  return typeof v === 'number' ? String(v) : JSON.stringify(v)
}

/** `{$name}`: any per-request variable a plugin set (strings and numbers). */
function pluginVar(name: string): LogGetter {
  return (e) => {
    const v = e.outcome.vars?.[name]
    return typeof v === 'string' || typeof v === 'number' ? v : undefined
  }
}

/** The getter for one `{...}` token, or an error naming it. */
function getterFor(token: string): LogGetter {
  const sigil = token[0]
  const rest = token.slice(1)
  if (sigil === '>' && rest !== '') return requestHeader(rest)
  if (sigil === '<' && rest !== '') return responseHeader(rest)
  if (sigil === '~' && rest !== '') return cookie(rest)
  if (sigil === '$' && rest !== '') return pluginVar(rest)
  const getter = VARIABLES[token]
  // Its data is gathered only while a format asks for it.
  if (token === 'upstream_reused') trackConnectionReuse()
  if (getter === undefined) {
    throw new Error(
      `unknown access_log variable {${token}}; known: ${Object.keys(VARIABLES).join(', ')}, {>header}, {<header}, {~cookie}, {$plugin_var}`,
    )
  }
  return getter
}

/** Splits a format into literal text and getters, once. */
function parse(format: string): { literals: string[]; getters: LogGetter[] } {
  const literals: string[] = []
  const getters: LogGetter[] = []
  const token = /\{([^{}\s]+)\}/g
  let last = 0
  for (let m = token.exec(format); m !== null; m = token.exec(format)) {
    literals.push(format.slice(last, m.index))
    getters.push(getterFor(m[1] as string))
    last = m.index + m[0].length
  }
  literals.push(format.slice(last))
  return { literals, getters }
}

/**
 * Compiles `access_log` (a preset name or a format with `{variables}`) into a formatter.
 * Throws on an unknown variable, so a bad format rejects the config instead of logging junk.
 */
export function compileAccessLogFormat(format: string): LineFormatter {
  if (format === 'json') return compileJson()
  const { literals, getters } = parse(PRESETS[format] ?? format)
  const n = getters.length
  return (e) => {
    let line = literals[0] as string
    for (let i = 0; i < n; i++) line += text((getters[i] as LogGetter)(e)) + (literals[i + 1] as string)
    return `${line}\n`
  }
}

function compileJson(): LineFormatter {
  const keys = JSON_FIELDS.map((k, i) => `${i === 0 ? '{' : ','}"${k}":`)
  const getters = JSON_FIELDS.map((k) => VARIABLES[k] as LogGetter)
  const n = keys.length
  return (e) => {
    let line = ''
    for (let i = 0; i < n; i++) line += (keys[i] as string) + json((getters[i] as LogGetter)(e))
    return `${line}}\n`
  }
}

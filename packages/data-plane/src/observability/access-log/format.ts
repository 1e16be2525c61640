import { type AccessLogToken, type AccessLogVariable, parseAccessLogFormat } from '@fleetgate/schema'
import { trackConnectionReuse } from '../../upstream/connection-reuse.ts'
import type { LogEntry, LogGetter, LogValue } from './log-entry.ts'
import { cookie, requestHeader, responseHeader, VARIABLES } from './variables.ts'

/** Turns a finished request into one log line (with its trailing newline). */
export type LineFormatter = (e: LogEntry) => string

/** Fields of the `json` preset: key -> variable. */
const JSON_FIELDS: readonly AccessLogVariable[] = [
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

/** The getter for one `{...}` token. */
function getterFor(token: AccessLogToken): LogGetter {
  switch (token.kind) {
    case 'request_header':
      return requestHeader(token.name)
    case 'response_header':
      return responseHeader(token.name)
    case 'cookie':
      return cookie(token.name)
    case 'plugin_var':
      return pluginVar(token.name)
    case 'variable':
      // Its data is gathered only while a format asks for it.
      if (token.name === 'upstream_reused') trackConnectionReuse()
      return VARIABLES[token.name]
  }
}

/**
 * Compiles `access_log` (a preset name or a format with `{variables}`) into a formatter, parsed
 * by the schema's parser (the one `fleetgate validate` and the admin API run). Throws on an
 * invalid format, so a bad one rejects the config instead of logging junk.
 */
export function compileAccessLogFormat(format: string): LineFormatter {
  const parsed = parseAccessLogFormat(format)
  if (parsed.kind === 'json') return compileJson()
  const literals = parsed.literals
  const getters = parsed.tokens.map(getterFor)
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

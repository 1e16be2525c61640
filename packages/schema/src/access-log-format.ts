import { closest, didYouMean } from './did-you-mean.ts'
import { isCookieName, isHeaderName } from './header-field.ts'

/**
 * The named variables of access-log formats (the data plane's getters are keyed by these, and
 * its type checks that it has one for each). docs/deploy.md says what each holds.
 */
export const ACCESS_LOG_VARIABLES = [
  'method',
  'uri',
  'path',
  'query',
  'host',
  'scheme',
  'proto',
  'remote',
  'remote_port',
  'client_ip',
  'user_agent',
  'referer',
  'request_id',
  'request_length',
  'status',
  'size',
  'time',
  'time_clf',
  'time_unix',
  'latency',
  'latency_human',
  'ttfb',
  'upstream_connect_time',
  'upstream_header_time',
  'upstream_response_time',
  'upstream',
  'upstream_addr',
  'upstream_status',
  'upstream_reused',
  'attempts',
  'retries',
  'tls_version',
  'tls_cipher',
  'tls_sni',
  'consumer',
  'cache_status',
  'rate_limit',
  'tls_client_subject',
  'server',
  'location',
  'error',
  'pid',
] as const

/** One of {@link ACCESS_LOG_VARIABLES}. */
export type AccessLogVariable = (typeof ACCESS_LOG_VARIABLES)[number]

/** The text presets; `json` is a preset too, with a fixed set of fields (the data plane's). */
export const ACCESS_LOG_PRESETS: Readonly<Record<string, string>> = {
  combined: '{remote} - - [{time_clf}] "{method} {uri} {proto}" {status} {size} "{referer}" "{user_agent}"',
  common: '{remote} - - [{time_clf}] "{method} {uri} {proto}" {status} {size}',
  short: '{remote} {method} {uri} {proto} {status} {size} - {latency} ms',
  tiny: '{method} {uri} {status} {size} - {latency} ms',
}

/**
 * One `{...}` of a format: a named variable, `{>name}` a request header, `{<name}` a response
 * header, `{~name}` a cookie, `{$name}` a variable a plugin set.
 */
export type AccessLogToken =
  | { kind: 'variable'; name: AccessLogVariable }
  | { kind: 'request_header' | 'response_header' | 'cookie' | 'plugin_var'; name: string }

/** A parsed `access_log`: the json preset, or literal text around tokens (`literals` has one more entry than `tokens`). */
export type AccessLogFormat = { kind: 'json' } | { kind: 'text'; literals: string[]; tokens: AccessLogToken[] }

const VARIABLE_SET: ReadonlySet<string> = new Set(ACCESS_LOG_VARIABLES)
const PRESET_NAMES = [...Object.keys(ACCESS_LOG_PRESETS), 'json']
const SIGILS: Readonly<Record<string, Exclude<AccessLogToken['kind'], 'variable'>>> = {
  '>': 'request_header',
  '<': 'response_header',
  '~': 'cookie',
  $: 'plugin_var',
}
/** What may follow a `{` that opens a variable; any other `{` is literal text (a JSON-like format's). */
const OPENS_TOKEN = /[A-Za-z_><~$]/

/**
 * Parses `access_log`: a preset name (combined, common, short, tiny, json) or a format of literal
 * text and `{variables}`. Throws with a message naming the problem: an unknown variable or
 * preset, an invalid header or cookie name, a `{name` left unclosed. A `{` not followed by a
 * letter, `_` or a sigil is literal text.
 */
export function parseAccessLogFormat(format: string): AccessLogFormat {
  if (format === 'json') return { kind: 'json' }
  const preset = ACCESS_LOG_PRESETS[format]
  if (preset !== undefined) return parseText(preset)
  // A lone word is a preset name, misspelt: as a format it would log that word on every line.
  if (/^[\w-]+$/.test(format)) {
    throw new Error(`unknown access_log preset "${format}"${didYouMean(format, PRESET_NAMES)}; presets: ${PRESET_NAMES.join(', ')}`)
  }
  return parseText(format)
}

function parseText(format: string): AccessLogFormat {
  const literals: string[] = []
  const tokens: AccessLogToken[] = []
  let literalStart = 0
  for (let open = format.indexOf('{'); open >= 0; open = format.indexOf('{', open + 1)) {
    if (!OPENS_TOKEN.test(format[open + 1] ?? '')) continue
    const close = format.indexOf('}', open)
    const next = format.indexOf('{', open + 1)
    if (next >= 0 && (close < 0 || next < close)) throw unterminated(format.slice(open, next))
    if (close < 0) throw unterminated(format.slice(open))
    literals.push(format.slice(literalStart, open))
    tokens.push(parseToken(format.slice(open + 1, close)))
    literalStart = close + 1
    open = close
  }
  literals.push(format.slice(literalStart))
  return { kind: 'text', literals, tokens }
}

function unterminated(text: string): Error {
  return new Error(`unterminated "${text.trimEnd()}" (a variable is written {name})`)
}

function parseToken(text: string): AccessLogToken {
  const kind = SIGILS[text[0] as string]
  if (kind === undefined) {
    if (VARIABLE_SET.has(text)) return { kind: 'variable', name: text as AccessLogVariable }
    const match = closest(text, ACCESS_LOG_VARIABLES)
    throw new Error(
      match === undefined
        ? `unknown access_log variable {${text}}; known: ${ACCESS_LOG_VARIABLES.join(', ')}, {>header}, {<header}, {~cookie}, {$plugin_var}`
        : `unknown access_log variable {${text}} (did you mean {${match}}?)`,
    )
  }
  const name = text.slice(1)
  if (kind === 'cookie') {
    if (!isCookieName(name))
      throw new Error(`{${text}}: ${name === '' ? 'a cookie name is missing' : `"${name}" is not a valid cookie name`}`)
  } else if (kind === 'plugin_var') {
    if (!/^[\w.-]+$/.test(name))
      throw new Error(`{${text}}: ${name === '' ? 'a variable name is missing' : `"${name}" is not a valid variable name`}`)
  } else if (!isHeaderName(name)) {
    throw new Error(`{${text}}: ${name === '' ? 'a header name is missing' : `"${name}" is not a valid header name`}`)
  }
  return { kind, name }
}

import { Type } from '@sinclair/typebox'

// RFC 9110 §5.1 and §5.6.2: a field name is a token.
const TOKEN_CHARS = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]"
// RFC 9110 §5.5: a field value is visible ASCII or obs-text (0x80-0xff), with spaces and tabs
// only between visible characters (Node and undici refuse anything else, so it would be a 500).
const FIELD_VCHAR = '[\\x21-\\x7e\\x80-\\xff]'
const FIELD_VALUE = `${FIELD_VCHAR}([\\t\\x20-\\x7e\\x80-\\xff]*${FIELD_VCHAR})?`

/** JSON Schema pattern of a header name (an RFC 9110 token). */
export const HEADER_NAME_PATTERN = `^${TOKEN_CHARS}+$`
/** JSON Schema pattern of a header name or "" (where "" turns the header off). */
export const OPTIONAL_HEADER_NAME_PATTERN = `^${TOKEN_CHARS}*$`
/** JSON Schema pattern of a header field value (RFC 9110), "" included. */
export const FIELD_VALUE_PATTERN = `^(${FIELD_VALUE})?$`
// RFC 6265 §4.1.1: a cookie name is an RFC 2616 token, the same characters as a header name.
// The patterns are spelt differently only so that their error messages can name a cookie.
/** JSON Schema pattern of a cookie name (an RFC 6265 token). */
export const COOKIE_NAME_PATTERN = `^(?:${TOKEN_CHARS})+$`
/** JSON Schema pattern of a cookie name or "" (where "" turns the cookie off). */
export const OPTIONAL_COOKIE_NAME_PATTERN = `^(?:${TOKEN_CHARS})*$`

const HEADER_NAME = new RegExp(HEADER_NAME_PATTERN)
const FIELD_VALUE_RE = new RegExp(FIELD_VALUE_PATTERN)
const COOKIE_NAME = new RegExp(COOKIE_NAME_PATTERN)

/** True when `text` can be sent as a header name. */
export function isHeaderName(text: string): boolean {
  return HEADER_NAME.test(text)
}

/** True when `text` can name a cookie. */
export function isCookieName(text: string): boolean {
  return COOKIE_NAME.test(text)
}

/** True when `text` can be sent as a header value as it is. */
export function isFieldValue(text: string): boolean {
  return FIELD_VALUE_RE.test(text)
}

type StringOptions = { default?: string; description?: string; minLength?: number }

/**
 * A key naming an HTTP header: an RFC 9110 token, checked when the config is validated (a bad
 * name would fail every request at run time). With `optional`, "" is accepted too (header off).
 */
export const HeaderName = (options: StringOptions & { optional?: boolean } = {}) => {
  const { optional, ...rest } = options
  return Type.String({ ...rest, pattern: optional === true ? OPTIONAL_HEADER_NAME_PATTERN : HEADER_NAME_PATTERN })
}

/** A key naming a cookie: an RFC 6265 token. With `optional`, "" is accepted too (cookie off). */
export const CookieName = (options: StringOptions & { optional?: boolean } = {}) => {
  const { optional, ...rest } = options
  return Type.String({ ...rest, pattern: optional === true ? OPTIONAL_COOKIE_NAME_PATTERN : COOKIE_NAME_PATTERN })
}

/** A key whose value is sent as an HTTP header value: no control characters, no surrounding spaces, Latin-1 only. */
export const FieldValue = (options: StringOptions = {}) => Type.String({ ...options, pattern: FIELD_VALUE_PATTERN })

const TOKEN_RULE = "letters, digits and !#$%&'*+-.^_`|~ only"

const PATTERN_MESSAGES: Record<string, string> = {
  [HEADER_NAME_PATTERN]: `must be a header name: ${TOKEN_RULE}`,
  [OPTIONAL_HEADER_NAME_PATTERN]: `must be a header name (${TOKEN_RULE}) or "" for none`,
  [COOKIE_NAME_PATTERN]: `must be a cookie name: ${TOKEN_RULE}`,
  [OPTIONAL_COOKIE_NAME_PATTERN]: `must be a cookie name (${TOKEN_RULE}) or "" for none`,
  [FIELD_VALUE_PATTERN]:
    'must be a valid header value: no control characters (CR, LF, NUL...), no leading or trailing spaces, Latin-1 characters only',
}

/** The readable message of a failed header `pattern`, or undefined for any other pattern. */
export function headerPatternMessage(pattern: string): string | undefined {
  return PATTERN_MESSAGES[pattern]
}

/**
 * Reports each entry of a "Name:value" header list (a plugin's add, set or headers) whose name
 * is not a header name or whose value cannot be sent as it is (values are trimmed, as when sent).
 */
export function checkHeaderList(list: readonly string[], key: string, push: (key: string, message: string) => void): void {
  list.forEach((spec, i) => {
    const colon = spec.indexOf(':')
    const name = (colon < 0 ? spec : spec.slice(0, colon)).trim()
    if (colon < 0) push(`${key}.${i}`, `expected "Name:value", got ${JSON.stringify(spec)}`)
    else if (!isHeaderName(name)) push(`${key}.${i}`, `invalid header name in ${JSON.stringify(spec)}`)
    else if (!isFieldValue(spec.slice(colon + 1).trim()))
      push(`${key}.${i}`, `invalid header value in ${JSON.stringify(spec)}: ${PATTERN_MESSAGES[FIELD_VALUE_PATTERN]}`)
  })
}

/** Reports each entry of a list of header names (a location's headers_remove) that is not one; names are trimmed, as when compiled. */
export function checkHeaderNames(list: readonly string[], key: string, push: (key: string, message: string) => void): void {
  list.forEach((name, i) => {
    if (!isHeaderName(name.trim())) push(`${key}.${i}`, `${PATTERN_MESSAGES[HEADER_NAME_PATTERN]}, got ${JSON.stringify(name)}`)
  })
}

/**
 * Why NAME of a "header:NAME" or "cookie:NAME" request source (a limit key, a hash algorithm)
 * can never be found in a request, or undefined when it can. Query parameter names are free.
 */
export function sourceNameProblem(source: string, name: string): string | undefined {
  if (source === 'header' && !isHeaderName(name)) return `invalid header name ${JSON.stringify(name)}: ${TOKEN_RULE}`
  if (source === 'cookie' && !isCookieName(name)) return `invalid cookie name ${JSON.stringify(name)}: ${TOKEN_RULE}`
  return undefined
}

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

const HEADER_NAME = new RegExp(HEADER_NAME_PATTERN)
const FIELD_VALUE_RE = new RegExp(FIELD_VALUE_PATTERN)

/** True when `text` can be sent as a header name. */
export function isHeaderName(text: string): boolean {
  return HEADER_NAME.test(text)
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

/** A key whose value is sent as an HTTP header value: no control characters, no surrounding spaces, Latin-1 only. */
export const FieldValue = (options: StringOptions = {}) => Type.String({ ...options, pattern: FIELD_VALUE_PATTERN })

const PATTERN_MESSAGES: Record<string, string> = {
  [HEADER_NAME_PATTERN]: "must be a header name: letters, digits and !#$%&'*+-.^_`|~ only",
  [OPTIONAL_HEADER_NAME_PATTERN]: 'must be a header name (letters, digits and !#$%&\'*+-.^_`|~ only) or "" for none',
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

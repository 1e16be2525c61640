import { parse as parseTomlText, stringify, TomlError } from 'smol-toml'
import type { ConfigError } from './errors.ts'

/** Parses TOML text into a plain object; a syntax error becomes a ConfigError with line and column. */
export function parseToml(text: string): { ok: true; value: Record<string, unknown> } | { ok: false; errors: ConfigError[] } {
  try {
    return { ok: true, value: parseTomlText(text) as Record<string, unknown> }
  } catch (err) {
    if (err instanceof TomlError) {
      const message = err.message.split('\n')[0] ?? err.message
      return { ok: false, errors: [{ path: '', message: `TOML syntax error at line ${err.line}, column ${err.column}: ${message}` }] }
    }
    throw err
  }
}

/** Serializes a config (or one section of it) as TOML. */
export function toToml(value: Record<string, unknown>): string {
  return stringify(value)
}

import { parse as parseTomlText, stringify, TomlError } from 'smol-toml'
import { type ConfigError, ConfigValidationError } from './errors.ts'
import { type ValidationResult, validateConfig } from './validate.ts'

/** Parses TOML text into a plain object; a syntax error becomes a ConfigError with line and column. */
export function parseToml(text: string): { ok: true; value: Record<string, unknown> } | { ok: false; errors: ConfigError[] } {
  try {
    return { ok: true, value: parseTomlText(text) as Record<string, unknown> }
  } catch (err) {
    if (err instanceof TomlError) {
      return {
        ok: false,
        errors: [{ path: '', message: `TOML syntax error at line ${err.line}, column ${err.column}: ${firstLine(err.message)}` }],
      }
    }
    throw err
  }
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message
}

/** Parses and validates TOML config text. */
export function loadConfigText(text: string): ValidationResult {
  const parsed = parseToml(text)
  return parsed.ok ? validateConfig(parsed.value) : parsed
}

/** Parses and validates TOML config text, throwing a ConfigValidationError listing every error. */
export function loadConfigTextOrThrow(text: string) {
  const result = loadConfigText(text)
  if (!result.ok) throw new ConfigValidationError(result.errors)
  return result.config
}

/** Serializes a config (or one section of it) as TOML. */
export function toToml(value: Record<string, unknown>): string {
  return stringify(value)
}

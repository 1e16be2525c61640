import { ConfigValidationError } from './errors.ts'
import { parseToml } from './toml.ts'
import { type ValidationResult, validateConfig } from './validate.ts'

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

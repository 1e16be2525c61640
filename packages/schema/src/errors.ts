/** One problem in a configuration, located by its key path ("locations.api.upstream"). */
export interface ConfigError {
  path: string
  message: string
}

/** Thrown where a config must be valid to continue; carries every error found. */
export class ConfigValidationError extends Error {
  readonly code = 'CONFIG_INVALID'
  readonly errors: ConfigError[]
  constructor(errors: ConfigError[], options?: ErrorOptions) {
    super(formatConfigErrors(errors), options)
    this.name = 'ConfigValidationError'
    this.errors = errors
  }
}

/** Human-readable, one error a line: "path: message". */
export function formatConfigErrors(errors: readonly ConfigError[]): string {
  return errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('\n')
}

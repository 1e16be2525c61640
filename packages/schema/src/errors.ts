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

/**
 * The error of a config file with nothing in it, or undefined. An empty TOML document is a valid
 * config that serves nothing, but a file read empty is most often one caught mid-write (`cat new >
 * file` truncates first): applying it would drop every listener and route, so files refuse it.
 */
export function emptyFileError(text: string): ConfigError | undefined {
  return text.trim() === '' ? { path: '', message: 'the file is empty: nothing applied (a file caught while being written?)' } : undefined
}

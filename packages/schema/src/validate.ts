import { compileSchema, mapAjvErrors } from './ajv.ts'
import { type Config, ConfigSchema } from './config.ts'
import { didYouMean } from './did-you-mean.ts'
import type { ConfigError } from './errors.ts'
import { pluginSchemas } from './plugins/index.ts'
import { checkSemantics } from './semantic.ts'

/** The outcome of validating a config: the typed config with defaults, or every error found. */
export type ValidationResult = { ok: true; config: Config } | { ok: false; errors: ConfigError[] }

const validateShape = compileSchema(ConfigSchema)
const pluginValidators = new Map<string, ReturnType<typeof compileSchema>>()

function pluginValidator(type: string) {
  let v = pluginValidators.get(type)
  const schema = pluginSchemas[type]
  if (!v && schema) {
    v = compileSchema(schema)
    pluginValidators.set(type, v)
  }
  return v
}

/**
 * Validates a parsed config (a plain object, as from TOML or JSON) without changing it.
 * On success the returned config is a copy with every default applied.
 */
export function validateConfig(input: unknown): ValidationResult {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, errors: [{ path: '', message: 'config must be a table' }] }
  }
  const config = structuredClone(input) as Config
  if (!validateShape(config)) {
    const errors = mapAjvErrors(validateShape.errors)
    return { ok: false, errors: sortErrors([...errors, ...semanticsOfInvalid(config, errors)]) }
  }
  const errors: ConfigError[] = []
  for (const [name, plugin] of Object.entries(config.plugins)) {
    const validate = pluginValidator(plugin.type)
    if (!validate) {
      errors.push({
        path: `plugins.${name}.type`,
        message: `unknown plugin type "${plugin.type}"${didYouMean(plugin.type, Object.keys(pluginSchemas))}`,
      })
    } else if (!validate(plugin)) {
      errors.push(...mapAjvErrors(validate.errors, `plugins.${name}`))
    }
  }
  errors.push(...checkSemantics(config))
  return errors.length > 0 ? { ok: false, errors: sortErrors(errors) } : { ok: true, config }
}

/**
 * Semantic errors of a config whose shape is wrong in places, so one run lists them all;
 * errors under a path that already failed its shape are left out, as they would only repeat it.
 */
function semanticsOfInvalid(config: Config, shapeErrors: ConfigError[]): ConfigError[] {
  try {
    return checkSemantics(config).filter((e) => !shapeErrors.some((s) => e.path === s.path || e.path.startsWith(`${s.path}.`)))
  } catch {
    return []
  }
}

function sortErrors(errors: ConfigError[]): ConfigError[] {
  const seen = new Set<string>()
  return errors
    .filter((e) => {
      const key = `${e.path}\0${e.message}`
      if (seen.has(key)) return false
      seen.add(key)
      return true
    })
    .sort((a, b) => a.path.localeCompare(b.path))
}

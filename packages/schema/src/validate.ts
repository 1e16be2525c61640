import { compileJsonSchema, compileSchema, mapAjvErrors } from './ajv.ts'
import { type Config, ConfigSchema, sectionSchemas } from './config.ts'
import { didYouMean } from './did-you-mean.ts'
import type { ConfigError } from './errors.ts'
import { toJsonSchema } from './json-schema.ts'
import { RESOURCE_KINDS } from './kinds.ts'
import { type PluginCheck, pluginChecks, pluginSchemas } from './plugins/index.ts'
import { checkSemantics, semanticChecks } from './semantic.ts'
import { runSteps, runStepsCooperatively, type Steps } from './steps.ts'

/** The outcome of validating a config: the typed config with defaults, or every error found. */
export type ValidationResult = { ok: true; config: Config } | { ok: false; errors: ConfigError[] }

/** Entries checked between two chances to yield. */
const ENTRIES_PER_STEP = 100

/**
 * The whole-config schema with each named resource only required to be a table: resources are
 * checked one by one by their kind's validator, so a config of 10,000 locations is validated
 * in steps rather than in one call.
 */
function topLevelSchema(): Record<string, unknown> {
  const schema = toJsonSchema(ConfigSchema) as { properties: Record<string, { patternProperties?: Record<string, unknown> }> }
  for (const kind of RESOURCE_KINDS) {
    const patterns = schema.properties[kind]?.patternProperties ?? {}
    for (const pattern of Object.keys(patterns)) patterns[pattern] = { type: 'object' }
  }
  return schema
}

const validateTop = compileJsonSchema(topLevelSchema())
const validateEntry = Object.fromEntries(RESOURCE_KINDS.map((kind) => [kind, compileSchema(sectionSchemas[kind])]))
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
  return runSteps(validationSteps(input))
}

/**
 * validateConfig, giving the event loop back between steps (for a proxy validating a big
 * config). With `inPlace`, `input` (a value the caller just parsed and owns) gets the defaults
 * itself instead of a copy: cloning 10,000 locations would be one long uninterruptible step.
 */
export function validateConfigCooperatively(input: unknown, options: { inPlace?: boolean } = {}): Promise<ValidationResult> {
  return runStepsCooperatively(validationSteps(input, options.inPlace ?? false))
}

function* validationSteps(input: unknown, inPlace = false): Steps<ValidationResult> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, errors: [{ path: '', message: 'config must be a table' }] }
  }
  const config = (inPlace ? input : structuredClone(input)) as Config
  yield
  const errors: ConfigError[] = validateTop(config) ? [] : mapAjvErrors(validateTop.errors)
  let checked = 0
  for (const kind of RESOURCE_KINDS) {
    const entries = config[kind]
    if (entries === null || typeof entries !== 'object' || Array.isArray(entries)) continue
    const validate = validateEntry[kind] as ReturnType<typeof compileSchema>
    for (const [name, value] of Object.entries(entries as Record<string, unknown>)) {
      if (value !== null && typeof value === 'object' && !validate(value)) errors.push(...mapAjvErrors(validate.errors, `${kind}.${name}`))
      if (++checked % ENTRIES_PER_STEP === 0) yield
    }
  }
  if (errors.length > 0) {
    // Every error in one run: plugin values too, wherever the plugins' own shape allows checking them.
    return { ok: false, errors: sortErrors([...errors, ...pluginErrorsOfInvalid(config, errors), ...semanticsOfInvalid(config, errors)]) }
  }
  checkPlugins(config, errors)
  for (const check of semanticChecks(config)) {
    yield
    check((path, message) => errors.push({ path, message }))
  }
  return errors.length > 0 ? { ok: false, errors: sortErrors(errors) } : { ok: true, config }
}

function checkPlugins(config: Config, errors: ConfigError[]): void {
  for (const [name, plugin] of Object.entries(config.plugins)) {
    const validate = pluginValidator(plugin.type)
    if (!validate) {
      errors.push({
        path: `plugins.${name}.type`,
        message: `unknown plugin type "${plugin.type}"${didYouMean(plugin.type, Object.keys(pluginSchemas))}`,
      })
    } else if (!validate(plugin)) {
      errors.push(...mapAjvErrors(validate.errors, `plugins.${name}`))
    } else {
      const check = pluginChecks[plugin.type] as PluginCheck<unknown> | undefined
      check?.(plugin, (key, message) => errors.push({ path: `plugins.${name}.${key}`, message }))
    }
  }
}

/**
 * Plugin errors of a config whose shape is wrong elsewhere; plugins whose own table already
 * failed its shape are skipped (their errors would only repeat it).
 */
function pluginErrorsOfInvalid(config: Config, shapeErrors: ConfigError[]): ConfigError[] {
  const plugins = config.plugins as unknown
  if (plugins === null || typeof plugins !== 'object' || Array.isArray(plugins)) return []
  const failed = new Set(shapeErrors.flatMap((e) => pathAndAncestors(e.path)))
  const checkable = Object.entries(plugins as Record<string, unknown>).filter(
    ([name, plugin]) =>
      plugin !== null &&
      typeof plugin === 'object' &&
      typeof (plugin as { type?: unknown }).type === 'string' &&
      !failed.has(`plugins.${name}`),
  )
  const errors: ConfigError[] = []
  checkPlugins({ plugins: Object.fromEntries(checkable) } as Config, errors)
  return errors
}

/**
 * Semantic errors of a config whose shape is wrong in places, so one run lists them all;
 * errors under a path that already failed its shape are left out, as they would only repeat it.
 */
function semanticsOfInvalid(config: Config, shapeErrors: ConfigError[]): ConfigError[] {
  const failed = new Set(shapeErrors.map((s) => s.path))
  try {
    return checkSemantics(config).filter((e) => !pathAndAncestors(e.path).some((p) => failed.has(p)))
  } catch {
    return []
  }
}

/**
 * A path and every dot-separated ancestor of it ("a.b.c": "a", "a.b", "a.b.c"): sets of these answer
 * "is there an error at or under this path" in one lookup, where comparing every pair of thousands of
 * errors took seconds.
 */
function pathAndAncestors(path: string): string[] {
  const out: string[] = []
  for (let i = path.indexOf('.'); i !== -1; i = path.indexOf('.', i + 1)) out.push(path.slice(0, i))
  out.push(path)
  return out
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

import type { TSchema } from '@sinclair/typebox'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import { didYouMean, type EnumValue } from './did-you-mean.ts'
import type { ConfigError } from './errors.ts'
import { headerPatternMessage } from './header-field.ts'
import { toJsonSchema } from './json-schema.ts'
import { invalidNameReason } from './resource-name.ts'
import { isDuration, isSize } from './units.ts'

const ajv = new Ajv({ allErrors: true, useDefaults: true, verbose: true, strict: false, coerceTypes: false })
ajv.addFormat('duration', { type: 'string', validate: isDuration })
ajv.addFormat('size', { type: 'string', validate: isSize })

/** Compiles a TypeBox schema once into an Ajv validator that fills in defaults. */
export function compileSchema(schema: TSchema): ValidateFunction {
  return ajv.compile(toJsonSchema(schema))
}

/** Compiles a plain JSON Schema (already relaxed, see toJsonSchema) into an Ajv validator. */
export function compileJsonSchema(schema: Record<string, unknown>): ValidateFunction {
  return ajv.compile(schema)
}

/** Turns Ajv errors into ConfigErrors under `prefix`, one readable message each. */
export function mapAjvErrors(errors: readonly ErrorObject[] | null | undefined, prefix = ''): ConfigError[] {
  const out: ConfigError[] = []
  // An enum's message already says what was given, so its type error would only repeat it.
  const enumPaths = new Set((errors ?? []).filter((e) => e.keyword === 'enum').map((e) => e.instancePath))
  for (const e of errors ?? []) {
    if (e.keyword === 'type' && enumPaths.has(e.instancePath)) continue
    const base = joinPath(prefix, e.instancePath.split('/').slice(1).map(unescapePointer).join('.'))
    const message = describe(e)
    if (message === undefined) continue
    const path =
      e.keyword === 'additionalProperties' || e.keyword === 'required'
        ? joinPath(base, String(e.params.additionalProperty ?? e.params.missingProperty))
        : base
    out.push({ path, message })
  }
  return out
}

function describe(e: ErrorObject): string | undefined {
  const parent = e.parentSchema as Record<string, unknown> | undefined
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(e.params.additionalProperty)
      if (parent?.patternProperties) return invalidNameReason(key) ?? `invalid name "${key}"`
      const known = Object.keys((parent?.properties as object | undefined) ?? {})
      return `unknown key "${key}"${didYouMean(key, known)}`
    }
    case 'required':
      return 'is required'
    case 'format':
      return e.params.format === 'duration'
        ? `invalid duration ${JSON.stringify(e.data)} (use ms, s, m, h, for example "3s")`
        : `invalid size ${JSON.stringify(e.data)} (use b, kb, mb, gb, for example "1mb")`
    case 'enum': {
      const allowed = e.params.allowedValues as EnumValue[]
      return `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(e.data)}${didYouMean(String(e.data), allowed)}`
    }
    case 'pattern':
      return `${headerPatternMessage(String(e.params.pattern)) ?? `must match pattern "${e.params.pattern}"`}, got ${JSON.stringify(e.data)}`
    case 'type':
      return `must be ${[e.params.type].flat().join(' or ')}, got ${describeType(e.data)}`
    case 'minItems':
      return `needs at least ${e.params.limit} item(s)`
    case 'minimum':
    case 'maximum':
      return `must be ${e.keyword === 'minimum' ? '>=' : '<='} ${e.params.limit}, got ${JSON.stringify(e.data)}`
    case 'anyOf':
      return 'does not match any allowed form'
    default:
      return e.message ?? e.keyword
  }
}

function describeType(value: unknown): string {
  if (Array.isArray(value)) return 'an array'
  if (value === null) return 'null'
  return typeof value === 'object' ? 'a table' : `${typeof value} ${JSON.stringify(value)}`
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~')
}

/** "a.b" + "c" = "a.b.c", skipping empty parts. */
export function joinPath(a: string, b: string): string {
  return a && b ? `${a}.${b}` : a || b
}

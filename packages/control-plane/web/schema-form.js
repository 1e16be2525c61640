// A resource form rendered from its JSON Schema (GET /api/v1/schema): one field per property,
// fieldsets for nested objects, a JSON box for keys the schema does not describe. The same
// schemas validate on the server; the form never re-declares them.
import { h } from './elements.js'
import { fieldKind, renderField } from './schema-field.js'

/**
 * Builds the form for `value` (a resource table) under `schema`. Returns
 * `{element, read(), showErrors(errors), clearErrors()}`: `read()` gives `{value, problems}`
 * (problems: fields whose text is not JSON at all); `showErrors` puts each `{path, message}`
 * (paths relative to the resource) next to its field and returns the ones no field claimed.
 */
export function createSchemaForm(schema, value, { idPrefix }) {
  const fields = []
  const root = renderObject(schema ?? {}, isPlainObject(value) ? value : {}, '', fields, idPrefix)
  const element = h('div', { class: 'schema-form' }, root.nodes)
  return {
    element,
    read() {
      const problems = []
      const result = root.read(problems)
      return { value: result.present ? result.value : {}, problems }
    },
    showErrors(errors) {
      for (const field of fields) field.setError('')
      const unmatched = []
      const messages = new Map()
      for (const error of errors) {
        const field = bestField(fields, String(error.path ?? ''))
        if (field === undefined) unmatched.push(error)
        else messages.set(field, [...(messages.get(field) ?? []), relativeMessage(error, field)])
      }
      for (const [field, list] of messages) field.setError(list.join('; '))
      return unmatched
    },
    clearErrors() {
      for (const field of fields) field.setError('')
    },
  }
}

function renderObject(schema, value, base, fields, idPrefix) {
  const properties = isPlainObject(schema.properties) ? schema.properties : {}
  const required = new Set(Array.isArray(schema.required) ? schema.required : [])
  const parts = []
  for (const [key, propSchema] of Object.entries(properties)) {
    const path = base === '' ? key : `${base}.${key}`
    if (fieldKind(propSchema) === 'object') {
      const inner = renderObject(propSchema, isPlainObject(value[key]) ? value[key] : {}, path, fields, idPrefix)
      const legend = h('legend', {}, h('span', { class: 'key', text: key }), required.has(key) ? ' (required)' : '')
      const hint = propSchema.description ? h('p', { class: 'hint', text: propSchema.description }) : null
      parts.push({ key, node: h('fieldset', { class: 'nested', dataset: { path } }, legend, hint, inner.nodes), read: inner.read })
      continue
    }
    const field = renderField({ key, path, schema: propSchema, value: value[key], isRequired: required.has(key), idPrefix })
    field.matches = (rel) => rel === path || rel.startsWith(`${path}.`) || rel.startsWith(`${path}[`) || rel.startsWith(`${path}/`)
    fields.push(field)
    parts.push({ key, node: field.element, read: (problems) => readField(field, problems) })
  }
  const extraKeys = Object.keys(value).filter((k) => !(k in properties))
  if (extraKeys.length > 0 || schema.additionalProperties === true)
    parts.push(extrasPart(value, extraKeys, base, properties, fields, idPrefix))
  return {
    nodes: parts.map((p) => p.node),
    read(problems) {
      const out = {}
      let present = false
      for (const part of parts) {
        const result = part.read(problems)
        if (!result.present) continue
        present = true
        if (part.key === undefined) Object.assign(out, result.value)
        else out[part.key] = result.value
      }
      return { present, value: out }
    },
  }
}

/** Keys the schema does not list (a plugin's own keys before its type is known, or stale keys): one JSON object. */
function extrasPart(value, extraKeys, base, properties, fields, idPrefix) {
  const extras = Object.fromEntries(extraKeys.map((k) => [k, value[k]]))
  const path = base === '' ? '(other keys)' : `${base}.(other keys)`
  const field = renderField({
    key: 'other keys',
    path,
    schema: { description: 'keys this form has no field for, as a JSON object' },
    value: extraKeys.length > 0 ? extras : undefined,
    isRequired: false,
    idPrefix,
  })
  field.matches = (rel) => {
    const inside = base === '' ? rel : rel.startsWith(`${base}.`) ? rel.slice(base.length + 1) : null
    return inside !== null && inside !== '' && !(inside.split(/[.[/]/)[0] in properties)
  }
  fields.push(field)
  return {
    key: undefined,
    node: field.element,
    read(problems) {
      const result = readField(field, problems)
      if (result.present && !isPlainObject(result.value)) {
        problems.push({ path, message: 'expected a JSON object' })
        field.setError('expected a JSON object')
        return { present: false }
      }
      return result
    },
  }
}

function readField(field, problems) {
  const result = field.read()
  if (result.problem !== undefined) {
    problems.push({ path: field.path, message: result.problem })
    field.setError(result.problem)
    return { present: false }
  }
  return result
}

/** The field that owns an error path: the one with the longest path matching it. */
function bestField(fields, rel) {
  let best
  for (const field of fields) if (field.matches(rel) && (best === undefined || field.path.length > best.path.length)) best = field
  return best
}

function relativeMessage(error, field) {
  const rel = String(error.path ?? '')
  return rel === field.path ? String(error.message) : `${rel}: ${error.message}`
}

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

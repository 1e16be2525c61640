// One form field rendered from a property's JSON Schema: the control, its label and hint, and
// how its text becomes a config value. Validation stays on the server (the schema package);
// a field only turns text into the JSON type the schema names.
import { h, safeId } from './elements.js'

const SCALARS = new Set(['string', 'number', 'integer', 'boolean'])

/** Which control a property gets: 'const', 'enum', 'boolean', 'string', 'number', 'scalar-union', 'string-or-list', 'list', 'object' or 'json'. */
export function fieldKind(schema) {
  if (!schema || typeof schema !== 'object') return 'json'
  if (schema.const !== undefined) return 'const'
  if (Array.isArray(schema.enum)) return 'enum'
  const type = schema.type
  if (Array.isArray(type)) {
    if (type.length === 2 && type.includes('string') && type.includes('array') && schema.items?.type === 'string') return 'string-or-list'
    return type.every((t) => SCALARS.has(t) && t !== 'boolean') ? 'scalar-union' : 'json'
  }
  if (type === 'boolean') return 'boolean'
  if (type === 'string') return 'string'
  if (type === 'number' || type === 'integer') return 'number'
  if (type === 'array') {
    const items = schema.items
    if (items && typeof items === 'object' && (Array.isArray(items.enum) || ['string', 'number', 'integer'].includes(items.type)))
      return 'list'
    return 'json'
  }
  if (type === 'object' && schema.properties && !schema.patternProperties && schema.additionalProperties === false) return 'object'
  return 'json'
}

/**
 * Renders one scalar, list or JSON field for `key` at `path` (dotted, relative to the resource).
 * Returns `{element, path, read(), setError(message)}`; `read()` returns `{present, value}` or
 * `{problem}` when the text cannot be turned into JSON at all.
 */
export function renderField({ key, path, schema, value, isRequired, idPrefix }) {
  const kind = fieldKind(schema)
  const id = safeId(idPrefix, path)
  const hintId = `${id}-hint`
  const errorId = `${id}-error`
  const control = createControl(kind, schema, value, id)
  control.setAttribute('aria-describedby', `${hintId} ${errorId}`)
  control.dataset.path = path
  const error = h('p', { id: errorId, class: 'field-error', 'aria-live': 'polite' })
  const element = h(
    'div',
    { class: `field field-${kind}`, dataset: { path } },
    h(
      'label',
      { for: id },
      h('span', { class: 'key', text: key }),
      isRequired ? h('span', { class: 'required', text: ' (required)' }) : null,
    ),
    control,
    h('p', { id: hintId, class: 'hint', text: hintOf(kind, schema) }),
    error,
  )
  return {
    element,
    path,
    read: () => readControl(kind, schema, control, value),
    setError(message) {
      error.textContent = message ?? ''
      element.classList.toggle('has-error', Boolean(message))
      if (message) control.setAttribute('aria-invalid', 'true')
      else control.removeAttribute('aria-invalid')
    },
  }
}

function createControl(kind, schema, value, id) {
  switch (kind) {
    case 'const':
      return h('input', { id, type: 'text', readOnly: true, value: String(schema.const) })
    case 'enum':
      return select(id, schema.enum, value, schema.default)
    case 'boolean':
      return select(id, [true, false], value, schema.default)
    case 'list':
    case 'string-or-list':
      return h('textarea', {
        id,
        rows: 3,
        spellcheck: 'false',
        value: Array.isArray(value) ? value.map(String).join('\n') : value === undefined ? '' : String(value),
      })
    case 'json':
      return h('textarea', {
        id,
        rows: 4,
        spellcheck: 'false',
        class: 'code',
        value: value === undefined ? '' : JSON.stringify(value, null, 2),
      })
    default: {
      const text = value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value)
      if (kind === 'string' && (text.includes('\n') || /PEM/.test(schema.description ?? ''))) {
        return h('textarea', { id, rows: text.includes('\n') ? 6 : 2, spellcheck: 'false', class: 'code', value: text })
      }
      const placeholder = schema.default === undefined ? '' : `default: ${JSON.stringify(schema.default)}`
      return h('input', {
        id,
        type: 'text',
        value: text,
        placeholder,
        inputmode: kind === 'number' ? 'decimal' : null,
        spellcheck: 'false',
      })
    }
  }
}

function select(id, options, value, defaultValue) {
  const unset = defaultValue === undefined ? '(not set)' : `(not set: default ${JSON.stringify(defaultValue)})`
  return h(
    'select',
    { id },
    h('option', { value: '', text: unset, selected: value === undefined }),
    options.map((option, i) => h('option', { value: String(i), text: String(option), selected: value === option })),
  )
}

function hintOf(kind, schema) {
  const parts = []
  if (schema.description) parts.push(schema.description)
  if (kind === 'list') parts.push('one value per line')
  if (kind === 'string-or-list') parts.push('one value, or several on separate lines')
  if (kind === 'json') parts.push('JSON')
  if (schema.format === 'duration' && !/duration/.test(schema.description ?? '')) parts.push('duration: ms, s, m, h')
  if (schema.format === 'size') parts.push('size: bytes or b, kb, mb, gb')
  if (schema.default !== undefined && kind !== 'enum' && kind !== 'boolean') parts.push(`default ${JSON.stringify(schema.default)}`)
  return parts.join(' · ')
}

function readControl(kind, schema, control, original) {
  const text = control.value
  switch (kind) {
    case 'const':
      return { present: true, value: schema.const }
    case 'enum':
    case 'boolean': {
      if (text === '') return { present: false }
      const options = kind === 'enum' ? schema.enum : [true, false]
      return { present: true, value: options[Number(text)] }
    }
    case 'list': {
      const lines = text
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '')
      // An emptied list that was set stays set (to []), so clearing it is a change the server sees.
      if (lines.length === 0) return original === undefined ? { present: false } : { present: true, value: [] }
      const itemType = schema.items?.type
      return { present: true, value: lines.map((l) => (itemType === 'number' || itemType === 'integer' ? toNumber(l) : l)) }
    }
    case 'string-or-list': {
      const lines = text
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '')
      if (lines.length === 0) return { present: false }
      return { present: true, value: lines.length === 1 && !Array.isArray(original) ? lines[0] : lines }
    }
    case 'json': {
      if (text.trim() === '') return { present: false }
      try {
        return { present: true, value: JSON.parse(text) }
      } catch (err) {
        return { problem: `not valid JSON: ${err.message}` }
      }
    }
    case 'number':
      return text.trim() === '' ? { present: false } : { present: true, value: toNumber(text.trim()) }
    case 'scalar-union': {
      const t = text.trim()
      if (t === '') return { present: false }
      const numeric = schema.type.includes('integer') || schema.type.includes('number')
      return { present: true, value: numeric && /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : t }
    }
    default:
      return text === '' ? { present: false } : { present: true, value: text }
  }
}

/** A number when the text is one; otherwise the text itself, so the server names the bad value. */
function toNumber(text) {
  const n = Number(text)
  return text !== '' && Number.isFinite(n) ? n : text
}

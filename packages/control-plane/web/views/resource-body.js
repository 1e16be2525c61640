// The body of the resource editor: a schema form and a raw JSON tab over the same value, and
// for plugins the type select that picks which plugin schema the form follows.
import { h, replace } from '../elements.js'
import { createSchemaForm } from '../schema-form.js'

/**
 * Builds the tabs for `value`. Returns `{element, read(), showErrors(errors), setValue(value)}`;
 * `read()` gives `{value, problems}` from whichever tab is open.
 */
export function createResourceBody({ kind, schemaDoc, value, idPrefix }) {
  const isPlugin = kind === 'plugins'
  let current = value ?? {}
  let mode = 'form'
  let form = null
  const formPanel = h('div', { id: 'panel-form', role: 'tabpanel', 'aria-labelledby': 'tab-form' })
  const json = h('textarea', { id: 'raw-json', class: 'code', rows: 18, spellcheck: 'false' })
  const jsonPanel = h(
    'div',
    { id: 'panel-json', role: 'tabpanel', 'aria-labelledby': 'tab-json', hidden: true },
    h('label', { for: 'raw-json', text: 'The resource as JSON' }),
    json,
  )
  const typeSelect = isPlugin ? pluginTypeSelect(schemaDoc, current.type) : null
  const formTab = tab('form', 'Form', true)
  const jsonTab = tab('json', 'JSON', false)
  const note = h('p', { class: 'field-error', 'aria-live': 'polite' })

  function schemaFor(v) {
    if (!isPlugin) return schemaDoc.sections[kind]
    return schemaDoc.plugins[v.type] ?? schemaDoc.sections.plugins
  }

  function buildForm() {
    form = createSchemaForm(schemaFor(current), current, { idPrefix })
    replace(formPanel, typeSelect ? typeSelect.element : null, form.element)
  }

  function readOpen() {
    if (mode === 'form') return form.read()
    try {
      const parsed = JSON.parse(json.value)
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('expected a JSON object')
      return { value: parsed, problems: [] }
    } catch (err) {
      return { value: null, problems: [{ path: '(JSON)', message: err.message }] }
    }
  }

  function switchTo(next) {
    if (next === mode) return
    const read = readOpen()
    if (read.problems.length > 0) {
      note.textContent = `Fix this first: ${read.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`
      return
    }
    note.textContent = ''
    current = read.value
    mode = next
    if (mode === 'json') json.value = JSON.stringify(current, null, 2)
    else {
      if (typeSelect) typeSelect.select.value = current.type in schemaDoc.plugins ? current.type : ''
      buildForm()
    }
    formPanel.hidden = mode !== 'form'
    jsonPanel.hidden = mode !== 'json'
    formTab.setAttribute('aria-selected', String(mode === 'form'))
    jsonTab.setAttribute('aria-selected', String(mode === 'json'))
  }

  formTab.addEventListener('click', () => switchTo('form'))
  jsonTab.addEventListener('click', () => switchTo('json'))
  typeSelect?.select.addEventListener('change', () => {
    const read = form.read()
    current = { ...read.value, type: typeSelect.select.value || undefined }
    if (current.type === undefined) delete current.type
    buildForm()
  })
  buildForm()

  return {
    element: h(
      'div',
      { class: 'resource-body' },
      h('div', { class: 'tabs', role: 'tablist' }, formTab, jsonTab),
      note,
      formPanel,
      jsonPanel,
    ),
    read: readOpen,
    showErrors: (errors) => (mode === 'form' ? form.showErrors(errors) : errors),
    setValue(v) {
      current = v ?? {}
      if (typeSelect) typeSelect.select.value = current.type in schemaDoc.plugins ? current.type : ''
      json.value = JSON.stringify(current, null, 2)
      buildForm()
    },
  }
}

function tab(id, label, selected) {
  return h('button', {
    type: 'button',
    id: `tab-${id}`,
    role: 'tab',
    'aria-selected': String(selected),
    'aria-controls': `panel-${id}`,
    text: label,
  })
}

function pluginTypeSelect(schemaDoc, type) {
  const types = Object.keys(schemaDoc.plugins).sort()
  const select = h(
    'select',
    { id: 'plugin-type' },
    h('option', { value: '', text: '(choose a plugin type)' }),
    types.map((t) => h('option', { value: t, text: t, selected: t === type })),
  )
  const element = h(
    'div',
    { class: 'field' },
    h('label', { for: 'plugin-type', text: 'Plugin type' }),
    select,
    h('p', { class: 'hint', text: 'The form follows the schema of the chosen type.' }),
  )
  return { element, select }
}

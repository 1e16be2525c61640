// One resource (or singleton section): view, edit, create and delete through
// GET/PUT/DELETE /api/v1/{kind}/{name}, with a form rendered from its schema and a raw JSON tab.
import { ApiError, apiCall, loadSchema, resourcePath } from '../api.js'
import { confirmAction } from '../confirm.js'
import { h, replace, routeHref } from '../elements.js'
import { errorBox, flash, publishedText, successBox } from '../notices.js'
import { canWrite } from '../session.js'
import { createResourceBody } from './resource-body.js'

/** Renders the editor of `kind`/`name` (`name` undefined: a singleton section; `isNew`: create one). */
export async function renderResourceEditor(view, { kind, name, isNew = false }) {
  let schemaDoc
  try {
    schemaDoc = await loadSchema()
  } catch (err) {
    view.append(errorBox(err, 'Could not load the schema'))
    return
  }
  const isSingleton = schemaDoc.singletons.includes(kind)
  if (!isSingleton && !schemaDoc.kinds.includes(kind)) {
    view.append(h('h1', { text: 'Unknown kind' }), errorBox({ status: 404, message: `There is no resource kind "${kind}".` }))
    return
  }
  const state = { name, etag: null, value: {} }
  if (!isNew) {
    try {
      const res = await apiCall('GET', resourcePath(kind, name))
      state.value = res.data ?? {}
      state.etag = res.etag
    } catch (err) {
      // A singleton section not set yet is edited from empty; anything else is an error.
      if (!(isSingleton && err.status === 404)) {
        view.append(h('h1', { text: `${kind}${name === undefined ? '' : ` / ${name}`}` }), errorBox(err, 'Could not load it'))
        return
      }
    }
  }

  const result = h('div', { class: 'result', 'aria-live': 'polite' })
  const body = createResourceBody({ kind, schemaDoc, value: state.value, idPrefix: `f-${kind}` })
  const nameInput = isNew
    ? h('input', { id: 'resource-name', type: 'text', required: true, spellcheck: 'false', autocomplete: 'off' })
    : null
  const message = h('input', { id: 'change-message', type: 'text', maxlength: 2000, autocomplete: 'off' })
  const writable = canWrite()
  const saveButton = h('button', { type: 'submit', id: 'save', text: isNew ? 'Create' : 'Save', disabled: !writable })
  const deleteButton =
    isNew || isSingleton ? null : h('button', { type: 'button', id: 'delete', class: 'danger', text: 'Delete', disabled: !writable })
  const title = isNew ? `New ${kind.replace(/s$/, '')}` : name === undefined ? kind : `${kind} / ${name}`
  const form = h(
    'form',
    { class: 'editor', novalidate: true },
    nameInput ? h('div', { class: 'field' }, h('label', { for: 'resource-name', text: 'Name' }), nameInput) : null,
    body.element,
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'change-message', text: 'Change message (optional, kept in the version history)' }),
      message,
    ),
    h('div', { class: 'actions' }, saveButton, deleteButton),
    writable ? null : h('p', { class: 'hint', text: 'Read-only token: you can look, not change.' }),
    result,
  )
  view.append(
    h(
      'p',
      { class: 'crumbs' },
      h('a', { href: '#/resources', text: 'Resources' }),
      ' / ',
      h('a', { href: routeHref('resources', kind), text: kind }),
    ),
    h('h1', { text: title }),
    form,
  )

  const prefix = isSingleton ? `${kind}.` : () => `${kind}.${state.name}.`
  const relativeErrors = (errors) => {
    const p = typeof prefix === 'function' ? prefix() : prefix
    return errors.filter((e) => String(e.path ?? '').startsWith(p)).map((e) => ({ ...e, path: String(e.path).slice(p.length) }))
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    replace(result)
    if (isNew) {
      state.name = nameInput.value.trim()
      if (state.name === '') {
        replace(result, errorBox({ status: 400, message: 'Give the new resource a name.' }))
        nameInput.focus()
        return
      }
    }
    const read = body.read()
    if (read.problems.length > 0) {
      replace(result, errorBox({ status: 400, message: 'Some fields are not valid JSON.', errors: read.problems }))
      return
    }
    saveButton.disabled = true
    try {
      if (isNew && (await exists(kind, state.name))) {
        replace(result, errorBox({ status: 409, message: `${kind} "${state.name}" already exists: open it to edit it.` }))
        return
      }
      const headers = {}
      if (state.etag) headers['if-match'] = state.etag
      if (message.value.trim() !== '') headers['x-fleetgate-message'] = message.value.trim()
      const res = await apiCall('PUT', resourcePath(kind, isSingleton ? undefined : state.name), { json: read.value, headers })
      body.showErrors([])
      if (isNew) {
        flash(publishedText(res.data, 'Created'))
        location.hash = routeHref('resources', kind, state.name)
        return
      }
      message.value = ''
      await reload()
      replace(result, successBox(publishedText(res.data)))
    } catch (err) {
      showWriteError(err)
    } finally {
      saveButton.disabled = !writable
    }
  })

  deleteButton?.addEventListener('click', async () => {
    replace(result)
    const ok = await confirmAction({
      title: `Delete ${kind} "${name}"?`,
      details: ['A new generation without it is published to the fleet.'],
      action: 'Delete',
    })
    if (!ok) return
    try {
      const headers = state.etag ? { 'if-match': state.etag } : {}
      const res = await apiCall('DELETE', resourcePath(kind, name), { headers })
      flash(publishedText(res.data, `Deleted ${kind} "${name}"`))
      location.hash = routeHref('resources', kind)
    } catch (err) {
      showWriteError(err)
    }
  })

  async function reload() {
    const res = await apiCall('GET', resourcePath(kind, isSingleton ? undefined : state.name))
    state.value = res.data ?? {}
    state.etag = res.etag
    body.setValue(state.value)
  }

  function showWriteError(err) {
    const box = errorBox(err, err.status === 409 ? 'Not deleted' : 'Not saved')
    if (err.status === 400) {
      const unmatched = body.showErrors(relativeErrors(err.errors))
      box.dataset.unmatched = String(unmatched.length)
    }
    if (err.status === 412) {
      box.append(
        h('button', {
          type: 'button',
          class: 'secondary',
          text: 'Reload (discard my edits)',
          onclick: async () => {
            try {
              await reload()
              replace(result, successBox('Reloaded the current version.'))
            } catch (e) {
              replace(result, errorBox(e, 'Reload failed'))
            }
          },
        }),
      )
    }
    replace(result, box)
    box.scrollIntoView?.({ block: 'nearest' })
  }
}

async function exists(kind, name) {
  try {
    await apiCall('GET', resourcePath(kind, name))
    return true
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return false
    throw err
  }
}

// The whole desired config as TOML: load (with its ETag), validate, save with If-Match; a 412
// says someone else changed it and offers to reload.
import { apiCall } from '../api.js'
import { h, replace } from '../elements.js'
import { errorBox, publishedText, successBox } from '../notices.js'
import { canWrite } from '../session.js'

const TOML = 'application/toml'

/** Renders the TOML editor of the whole config. */
export async function renderConfigText(view) {
  const text = h('textarea', { id: 'config-toml', class: 'code', rows: 28, spellcheck: 'false', 'aria-describedby': 'config-hint' })
  const message = h('input', { id: 'config-message', type: 'text', maxlength: 2000, autocomplete: 'off' })
  const result = h('div', { class: 'result', 'aria-live': 'polite' })
  const etagLine = h('span', { id: 'config-etag' })
  const writable = canWrite()
  const validateButton = h('button', { type: 'button', id: 'validate', class: 'secondary', text: 'Validate' })
  const saveButton = h('button', { type: 'button', id: 'save-config', text: 'Save', disabled: !writable })
  const reloadButton = h('button', { type: 'button', id: 'reload-config', class: 'secondary', text: 'Reload' })
  let etag = null

  view.append(
    h('h1', { text: 'Whole config' }),
    h(
      'div',
      { class: 'editor' },
      h('label', { for: 'config-toml', text: 'Desired config (TOML)' }),
      text,
      h('p', { id: 'config-hint', class: 'hint' }, 'Saving replaces the whole desired config and publishes it. Loaded version: ', etagLine),
      h('div', { class: 'field' }, h('label', { for: 'config-message', text: 'Change message (optional)' }), message),
      h('div', { class: 'actions' }, validateButton, saveButton, reloadButton),
      writable ? null : h('p', { class: 'hint', text: 'Read-only token: you can validate, not save.' }),
      result,
    ),
  )

  async function load() {
    const res = await apiCall('GET', '/config', { accept: TOML })
    text.value = typeof res.data === 'string' ? res.data : ''
    etag = res.etag
    etagLine.textContent = etag ?? 'unknown'
  }

  async function run(button, action) {
    button.disabled = true
    replace(result)
    try {
      await action()
    } catch (err) {
      const box = errorBox(err, 'Failed')
      if (err.status === 412) {
        box.append(
          h('button', {
            type: 'button',
            class: 'secondary',
            id: 'reload-after-412',
            text: 'Reload (discard my edits)',
            onclick: reloadNow,
          }),
        )
      }
      replace(result, box)
    } finally {
      button.disabled = button === saveButton ? !writable : false
    }
  }

  async function reloadNow() {
    await run(reloadButton, async () => {
      await load()
      replace(result, successBox('Reloaded the current config.'))
    })
  }

  validateButton.addEventListener('click', () =>
    run(validateButton, async () => {
      await apiCall('POST', '/validate', { text: text.value, type: TOML })
      replace(result, successBox('Valid: this config would be accepted.'))
    }),
  )
  saveButton.addEventListener('click', () =>
    run(saveButton, async () => {
      const headers = etag ? { 'if-match': etag } : {}
      if (message.value.trim() !== '') headers['x-fleetgate-message'] = message.value.trim()
      const res = await apiCall('PUT', '/config', { text: text.value, type: TOML, headers })
      message.value = ''
      await load()
      replace(result, successBox(publishedText(res.data)))
    }),
  )
  reloadButton.addEventListener('click', reloadNow)

  try {
    await load()
  } catch (err) {
    replace(result, errorBox(err, 'Could not load the config'))
  }
}
